"""Repos stay compact and valid after thousands of saves; gc never prunes the
objects of a save in flight; stale locks are cleaned by maintain()."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from pathlib import Path

import pygit2

from repos import housekeeping, maintenance
from repos.store import Store
from tests.repos_helpers import AUTHOR, count_loose, git
from tests.waits import wait_for


def test_2000_saves_stay_compact_and_pass_fsck(tmp_path):
    store = Store(tmp_path / "repos")  # default threshold: 200 loose objects
    repo = store.create("ws", "cfg", {"manifest.json": b"{}\n"}, AUTHOR)
    for i in range(2000):
        path = f"columns/c{i % 40}.py"
        repo.write_file(path, f"value = {i}\n".encode(), author=AUTHOR, create=i < 40)
    assert git(repo.path, "rev-list", "--count", "draft").strip() == "2001"
    # Writes only schedule maintenance on this process's housekeeping thread;
    # once it has caught up, the loose objects are below the threshold (~4 per
    # save would be ~8,000 without maintenance).
    assert housekeeping.drain(timeout=120)
    git(repo.path, "fsck", "--strict", "--no-progress")
    loose = count_loose(repo.path)
    assert loose <= 200 + maintenance.read_baseline(repo.path), loose
    assert list(repo.path.glob("objects/pack/*.pack"))
    assert repo.read_file("columns/c0.py").data == b"value = 1960\n"


def test_gc_keeps_fresh_unreachable_objects(tmp_path):
    """A blob written by a save that has not committed yet must survive gc
    (this is what ``--prune=now`` would break)."""
    repo = Store(tmp_path / "repos").create("ws", "cfg", {"a": b"a"}, AUTHOR)
    raw = pygit2.Repository(str(repo.path))
    in_flight = raw.create_blob(b"a save in flight\n")
    repo.maintain(force=True)
    assert list(repo.path.glob("objects/pack/*.pack"))
    assert pygit2.Repository(str(repo.path))[in_flight].data == b"a save in flight\n"
    git(repo.path, "cat-file", "-e", str(in_flight))


def test_maintain_runs_gc_only_past_the_threshold(tmp_path):
    store = Store(tmp_path / "repos", gc_loose_objects=10_000)
    repo = store.create("ws", "cfg", {"a": b"a"}, AUTHOR)
    for i in range(30):
        repo.write_file("a", str(i).encode(), author=AUTHOR)
    before = count_loose(repo.path)
    repo.maintain()
    assert count_loose(repo.path) == before >= 30 * 3
    assert maintenance.count_loose_objects(repo.path) == before
    repo.maintain(force=True)
    assert count_loose(repo.path) < 10
    assert maintenance.read_baseline(repo.path) == count_loose(repo.path)


def test_maintain_removes_only_stale_locks(tmp_path):
    store = Store(tmp_path / "repos", stale_lock_seconds=5)
    repo = store.create("ws", "cfg", {"a": b"a"}, AUTHOR)
    old = repo.path / "refs" / "heads" / "draft.lock"
    fresh = repo.path / "packed-refs.lock"
    for lock in (old, fresh):
        lock.write_bytes(b"")
    stamp = time.time() - 60
    os.utime(old, (stamp, stamp))
    repo.maintain()
    assert not old.exists()
    assert fresh.exists()


def test_git_runs_without_user_config(tmp_path, monkeypatch):
    """A user's gitconfig (here: prune everything now) must not reach our gc."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[gc]\n\tpruneExpire = now\n")
    monkeypatch.setenv("HOME", str(home))
    repo = Store(tmp_path / "repos").create("ws", "cfg", {"a": b"a"}, AUTHOR)
    blob = pygit2.Repository(str(repo.path)).create_blob(b"unreachable\n")
    repo.maintain(force=True)
    git(repo.path, "cat-file", "-e", str(blob))


def test_two_threads_recording_the_gc_baseline_at_once(tmp_path, monkeypatch, caplog):
    """Issue 16, bug 1: two threads of one process finished a gc together and both
    recorded its baseline through one temp file name (unique per pid only); the
    second rename found the file gone and raised FileNotFoundError out of the save
    that had triggered the gc, after its commit had landed (a 500 for a committed
    save). Here git is stubbed out and both temp files are written before either
    is renamed, so the collision happens on every run if the name is shared."""
    repo = Store(tmp_path / "repos").create("ws", "cfg", {"a": b"a"}, AUTHOR)
    monkeypatch.setattr(
        maintenance,
        "run_git",
        lambda path, args, **_: subprocess.CompletedProcess(args, 0, "", ""),
    )
    both_written = threading.Barrier(2, timeout=30)
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == maintenance.GC_STAMP:
            both_written.wait()
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(maintenance.os, "replace", replace)
    results: list[object] = []

    def run_gc():
        try:
            results.append(maintenance.gc(repo.path, full=False))
        except Exception as exc:  # noqa: BLE001 - the bug is an exception here
            results.append(exc)

    caplog.set_level(logging.WARNING)
    threads = [threading.Thread(target=run_gc) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [True, True]
    assert [r.getMessage() for r in caplog.records] == []
    assert maintenance.read_baseline(repo.path) == maintenance.count_loose_objects(
        repo.path
    )
    assert not [p.name for p in repo.path.iterdir() if p.name.endswith(".tmp")]


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_background_git_dies_with_the_process_that_started_it(tmp_path):
    """gc.pid names the service process, so a repack that outlived it (a killed
    worker, a forked child's os._exit) would run beside the next runner, which
    takes a dead owner's lock as free: background git dies with its starter."""
    fake = tmp_path / "git"
    marker = tmp_path / "pid"
    fake.write_text(f"#!/bin/sh\necho $$ > {marker}.tmp && mv {marker}.tmp {marker}\n")
    fake.write_text(fake.read_text() + "exec sleep 60\n")
    fake.chmod(0o755)
    child = os.fork()
    if child == 0:  # pragma: no cover - the forked child
        try:
            threading.Thread(
                target=maintenance.run_git,
                args=(tmp_path, ["repack"]),
                kwargs={"git": str(fake), "background": True},
                daemon=True,
            ).start()
            wait_for(marker.exists, timeout=30)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    started = int(marker.read_text())
    wait_for(lambda: not _running(started), timeout=10, what="the orphaned git gone")
