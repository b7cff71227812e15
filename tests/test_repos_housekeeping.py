"""Maintenance runs off the write path: a write only schedules it on the process's
housekeeping thread, a failing job never reaches the writer, and one runner per
repository packs at a time, under git's own ``gc.pid`` lock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from repos import housekeeping, maintenance
from repos.store import Store
from tests.repos_helpers import AUTHOR, count_loose, git
from tests.waits import wait_for


@pytest.fixture
def repo(tmp_path):
    # A long delay: jobs run when a test drains the queue, never mid-test.
    store = Store(tmp_path / "repos", gc_loose_objects=20, maintenance_delay=600)
    repo = store.create("ws", "cfg", {"a.py": b"a = 0\n"}, AUTHOR)
    yield repo
    housekeeping.drain(timeout=60)


def test_writes_schedule_maintenance_and_the_thread_packs(repo, monkeypatch):
    ran_in: list[str] = []
    real_gc = maintenance.gc

    def gc(*args, **kwargs):
        ran_in.append(threading.current_thread().name)
        return real_gc(*args, **kwargs)

    monkeypatch.setattr(maintenance, "gc", gc)
    for i in range(40):
        repo.write_file("a.py", f"a = {i + 1}\n".encode(), author=AUTHOR)
    assert repo.path in housekeeping.pending()
    assert ran_in == []  # no write packed anything itself
    assert housekeeping.drain(timeout=60)
    assert ran_in == ["ade-housekeeper"]
    assert count_loose(repo.path) <= maintenance.read_baseline(repo.path) + 20
    assert not (repo.path / housekeeping.GC_PID).exists()  # released


def test_a_failing_job_never_reaches_the_writer(repo, monkeypatch, caplog):
    def broken(_path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(maintenance, "count_loose_objects", broken)
    result = repo.write_file("a.py", b"a = 1\n", author=AUTHOR)
    assert result.changes  # the write landed and answered normally
    assert housekeeping.drain(timeout=60)
    assert "disk on fire" in caplog.text
    monkeypatch.undo()
    # The thread lived on: the next job packs.
    for i in range(40):
        repo.write_file("a.py", f"a = {i + 2}\n".encode(), author=AUTHOR)
    assert housekeeping.drain(timeout=60)
    assert count_loose(repo.path) <= maintenance.read_baseline(repo.path) + 20


def test_writes_in_the_window_join_one_pending_job(repo, monkeypatch):
    jobs: list[object] = []
    monkeypatch.setattr(
        housekeeping, "maintain_repo", lambda path, *a, **k: jobs.append(path)
    )
    for i in range(25):
        repo.write_file("a.py", f"a = {i + 1}\n".encode(), author=AUTHOR)
    assert housekeeping.drain(timeout=60)
    assert jobs == [repo.path]


def test_git_gc_honours_our_lock(repo):
    with housekeeping.gc_lock(repo.path) as held:
        assert held
        proc = subprocess.run(
            ["git", "--git-dir", str(repo.path), "gc", "--quiet"],
            env=maintenance.git_env(str(repo.path)),
            capture_output=True,
            text=True,
        )
        assert proc.returncode != 0
        assert "already running" in proc.stderr
        with housekeeping.gc_lock(repo.path) as second:
            assert not second  # one runner at a time, threads of one process too
    assert not (repo.path / housekeeping.GC_PID).exists()


def test_a_lock_file_left_by_a_killed_runner_does_not_block_the_lock(repo):
    # A runner (or git gc) killed between creating gc.pid.lock and renaming it
    # over gc.pid leaves the lock file; a fresh one means someone is taking it.
    lockfile = repo.path / f"{housekeeping.GC_PID}.lock"
    lockfile.write_text("")
    with housekeeping.gc_lock(repo.path, wait=0.3) as held:
        assert not held  # fresh: not taken from whoever is writing it
    assert lockfile.exists()
    old = time.time() - housekeeping.STALE_LOCKFILE_SECONDS - 5
    os.utime(lockfile, (old, old))
    with housekeeping.gc_lock(repo.path, wait=5) as held:
        assert held
    assert not lockfile.exists()
    assert not (repo.path / housekeeping.GC_PID).exists()


def test_an_exited_unreaped_runner_does_not_keep_the_lock(repo):
    # A killed git gc leaves its pid in gc.pid; re-parented to a pid 1 that does
    # not reap (containers), it stays a zombie, which kill(pid, 0) calls alive.
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        wait_for(lambda: housekeeping._zombie(pid), timeout=10, what="a zombie")
        os.kill(pid, 0)  # "alive" to the classic check
        (repo.path / housekeeping.GC_PID).write_text(f"{pid} {socket.gethostname()}")
        with housekeeping.gc_lock(repo.path, wait=1) as held:
            assert held
    finally:
        os.waitpid(pid, 0)
    assert not housekeeping._zombie(os.getpid())


def _write_pid(repo, pid: int, host: str) -> None:
    (repo.path / housekeeping.GC_PID).write_text(f"{pid} {host}")


def test_a_live_runner_or_another_host_keeps_the_lock(repo):
    for i in range(30):
        repo.write_file("a.py", f"a = {i + 1}\n".encode(), author=AUTHOR)
    loose = count_loose(repo.path)
    assert loose > 20
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        _write_pid(repo, sleeper.pid, socket.gethostname())
        assert not repo.maintain()  # a live gc of this host: left to it
        _write_pid(repo, 1, "some-other-host")
        assert not repo.maintain()  # another host's, younger than 12 h
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (repo.path / housekeeping.GC_PID).exists()  # nothing was packed
    # A dead runner of this host (git's rule: its pid is gone) is taken over.
    _write_pid(repo, sleeper.pid, socket.gethostname())
    assert repo.maintain()
    assert count_loose(repo.path) < loose
    assert not (repo.path / housekeeping.GC_PID).exists()


def test_forced_gc_waits_for_the_other_runner(repo):
    release = threading.Event()

    def other_runner():
        with housekeeping.gc_lock(repo.path) as held:
            assert held
            release.wait(30)

    thread = threading.Thread(target=other_runner)
    thread.start()
    try:
        threading.Timer(0.5, release.set).start()
        assert repo.maintain(force=True)
    finally:
        release.set()
        thread.join()
    git(repo.path, "fsck", "--strict", "--no-progress")
    assert list(repo.path.glob("objects/pack/*.pack"))


def test_a_forked_child_starts_with_an_empty_queue(repo):
    repo.write_file("a.py", b"a = 9\n", author=AUTHOR)
    assert housekeeping.pending()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it inherited, then leave at once
        os.write(write, str(len(housekeeping.pending())).encode())
        os._exit(0)
    os.close(write)
    inherited = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert inherited == b"0"


def test_a_short_lived_process_maintains_before_it_exits(tmp_path):
    """A CLI command or a script writes and exits well before the debounce: the
    pending job runs at exit (atexit), not never."""
    root = Path(__file__).resolve().parents[1]
    script = f"""
import sys
sys.path.insert(0, {str(root)!r})
from repos.store import Store
from repos.types import Author
author = Author("cli", "cli@example.test")
store = Store({str(tmp_path / "repos")!r}, gc_loose_objects=20, maintenance_delay=600)
repo = store.create("ws", "cfg", {{"a.py": b"a = 0\\n"}}, author)
for i in range(40):
    repo.write_file("a.py", f"a = {{i + 1}}\\n".encode(), author=author)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    path = tmp_path / "repos" / "ws" / "cfg.git"
    assert list(path.glob("objects/pack/*.pack"))
    assert count_loose(path) <= maintenance.read_baseline(path) + 20
