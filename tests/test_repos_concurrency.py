"""No lost update across threads and processes; stale-blob races; killed writers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from repos.errors import ConcurrentUpdate
from repos.store import Store
from tests.repos_helpers import (
    AUTHOR,
    CFG,
    WS,
    gc_loop,
    git,
    race_one,
    run_in_processes,
    write_many,
)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "repos")
    store.create(WS, CFG, {"shared.txt": b"start\n"}, AUTHOR)
    return store


# host_lock=False leaves the compare-and-swap alone against 8 writers (as with
# several hosts on shared storage); True adds the same-host flock on top.
@pytest.mark.parametrize(
    ("host_lock", "workers", "per_worker"), [(False, 8, 50), (True, 4, 25)]
)
def test_no_lost_update_processes(store, host_lock, workers, per_worker):
    done = run_in_processes(
        write_many,
        [(str(store.root), w, per_worker, host_lock) for w in range(workers)],
    )
    assert done == [per_worker] * workers
    repo = store.open(WS, CFG)
    files = repo.read_all("draft")
    for w in range(workers):
        for i in range(per_worker):
            assert files[f"w{w}/f{i}.txt"] == f"{w}:{i}\n".encode()
    assert len(files) == workers * per_worker + 1
    # linear history: 400 saves + the first commit, no merge anywhere
    commits = workers * per_worker + 1
    assert git(repo.path, "rev-list", "--count", "draft").strip() == str(commits)
    assert (
        git(repo.path, "rev-list", "--min-parents=2", "--count", "draft").strip() == "0"
    )
    assert len(repo.history(limit=1000)) == commits
    git(repo.path, "fsck", "--strict")


def test_gc_while_processes_write_loses_nothing(store):
    """git gc (repack, pack-refs, prune with grace) racing 3 writers."""
    root = str(store.root)
    args = [(root, w, 40, False) for w in range(3)]
    results = run_in_processes(
        _writer_or_gc, [(a, None) for a in args] + [(None, (root, 6))]
    )
    assert results.count(40) == 3
    repo = store.open(WS, CFG)
    assert len(repo.read_all("draft")) == 3 * 40 + 1
    assert git(repo.path, "rev-list", "--count", "draft").strip() == str(3 * 40 + 1)
    git(repo.path, "fsck", "--strict", "--no-progress")


def _writer_or_gc(writer_args, gc_args, start):
    if writer_args is not None:
        return write_many(*writer_args, start)
    return gc_loop(*gc_args, start)


def _expected(store) -> str:
    return store.open(WS, CFG).read_file("shared.txt").sha


def _check_one_winner(store, results, n):
    winners = [r for r in results if r == "ok"]
    assert len(winners) == 1, results
    final = store.open(WS, CFG).read_file("shared.txt")
    assert sorted(results).count(f"412:{final.sha}") == n - 1
    assert final.data.startswith(b"written by ")
    assert len(store.open(WS, CFG).history()) == 2  # exactly one update landed


@pytest.mark.parametrize("host_lock", [False, True])
def test_same_file_same_expected_processes_one_wins(store, host_lock):
    n = 4
    expected = _expected(store)
    results = run_in_processes(
        race_one, [(str(store.root), w, expected, host_lock) for w in range(n)]
    )
    _check_one_winner(store, results, n)


@pytest.mark.parametrize("host_lock", [False, True])
def test_same_file_same_expected_threads_one_wins(store, host_lock):
    n = 8
    expected = _expected(store)
    barrier = threading.Barrier(n)
    results: list[str] = []

    def body(w: int) -> None:
        results.append(race_one(str(store.root), w, expected, host_lock, barrier))

    threads = [threading.Thread(target=body, args=(w,)) for w in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == n
    _check_one_winner(store, results, n)


def test_threads_sharing_one_instance_lose_nothing(store):
    repo = store.open(WS, CFG)

    def body(w: int) -> None:
        for i in range(20):
            repo.write_file(f"t{w}/{i}", b"x", author=AUTHOR, create=True)

    threads = [threading.Thread(target=body, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(repo.list_files()) == 81
    assert len(repo.history(limit=200)) == 81


def _killed_writer_leaves(lock):
    """A real process takes the ref lock the way git does and is SIGKILLed."""
    code = (
        "import os, signal, sys\n"
        "fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)\n"
        "os.write(fd, b'0' * 40)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(lock)], check=False)
    assert proc.returncode == -9
    assert lock.exists()


def test_killed_writers_lock_does_not_block_later_writes(tmp_path):
    store = Store(tmp_path / "repos", stale_lock_seconds=0.5)
    repo = store.create(WS, CFG, {}, AUTHOR)
    lock = repo.path / "refs" / "heads" / "draft.lock"
    _killed_writer_leaves(lock)
    # A lock that blocked would end the write in ConcurrentUpdate after its retries;
    # it goes through because the dead writer's lock is removed once stale.
    result = repo.write_file("after.txt", b"ok", author=AUTHOR, create=True)
    assert result.commit == repo.resolve("draft")
    assert not lock.exists()


def test_old_lock_is_removed_at_once_and_fresh_lock_bounds_retries(tmp_path):
    store = Store(tmp_path / "repos", stale_lock_seconds=60, retry_seconds=0.3)
    repo = store.create(WS, CFG, {}, AUTHOR)
    lock = repo.path / "refs" / "heads" / "draft.lock"
    lock.write_bytes(b"")
    # a lock younger than the stale age is respected: bounded retries, then a clear
    # error (and the draft did not move)
    tip = repo.resolve("draft")
    with pytest.raises(ConcurrentUpdate):
        repo.write_file("x.txt", b"x", author=AUTHOR, create=True)
    assert repo.resolve("draft") == tip and lock.exists()
    # once it is old enough it is removed and the write goes through
    old = time.time() - 120
    os.utime(lock, (old, old))
    repo.write_file("x.txt", b"x", author=AUTHOR, create=True)
    assert not lock.exists()
    assert repo.read_file("x.txt").data == b"x"


def test_publish_survives_stale_locks_on_main_and_head(tmp_path):
    store = Store(tmp_path / "repos", stale_lock_seconds=0.2)
    repo = store.create(WS, CFG, {"a": b"a"}, AUTHOR)
    # before the first publish both main (created) and HEAD (draft -> main) change
    for name in ("refs/heads/main.lock", "HEAD.lock"):
        _killed_writer_leaves(repo.path / name)
    tag = repo.publish("1.0.0", "one", tagger=AUTHOR)
    assert repo.main_commit() == tag.commit
    assert git(repo.path, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert not list(repo.path.rglob("*.lock"))
