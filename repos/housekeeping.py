"""Git maintenance off the write path: one thread per process looks at a repository
shortly after it got new objects and packs it once loose objects pile up.

A write only *schedules* a look (``schedule``: a dict update that never raises), so
nothing after a commit can fail or slow the write that made it. The thread runs a
repository's job at most once per ``maintenance_delay`` seconds: writes inside that
window join the pending job (a debounce). A job removes stale ref locks, counts loose
objects (the trigger: more than ``gc_loose_objects`` above what the last gc left) and
packs under git's own ``gc.pid`` lock, taken the way ``git gc`` takes it, so one
runner per repository works at a time across threads, processes and hosts, and an
operator's ``git gc`` and ours never overlap.

Pending jobs are run before the interpreter exits (``atexit``), so a short-lived
process (a CLI command, a script) that wrote leaves its repositories maintained too.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from repos import maintenance

if TYPE_CHECKING:
    from repos.repo import RepoSettings

log = logging.getLogger(__name__)

GC_PID = "gc.pid"
# git gc's own rule: a gc.pid younger than this, naming another host (or a live pid
# of this host), means a gc is running there.
GC_PID_MAX_AGE = 12 * 3600
EXIT_DRAIN_SECONDS = 30.0
# gc.pid.lock lives for the few microseconds of taking the lock (ours and git's own);
# one this old was left by a runner killed in between and would block every runner.
STALE_LOCKFILE_SECONDS = 10.0
FORCED_GC_WAIT = 60.0  # a forced gc waits this long for another runner to finish


def _lock_holder(pidfile: Path) -> str | None:
    """Who holds ``gc.pid`` by git's rule ("<pid> <host>"), or None if nobody."""
    try:
        if time.time() - pidfile.stat().st_mtime > GC_PID_MAX_AGE:
            return None
        pid_text, _, host = pidfile.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (FileNotFoundError, ValueError):
        return None
    if host != socket.gethostname():
        return f"{pid} {host}"  # git is "gentle to concurrent gc on remote hosts"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a dead runner of this host
    except PermissionError:
        pass  # alive, another user's
    if _zombie(pid):
        return None  # dead, not yet reaped: see _zombie
    return f"{pid} {host}"


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but was not reaped. ``kill(pid, 0)`` succeeds on
    such a process, and a killed ``git gc`` (it writes its own pid into gc.pid) is
    re-parented to pid 1, which in a container may never reap it: its gc.pid would
    then block every runner for good."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses.
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _drop_if_stale(lockfile: Path) -> None:
    """Remove a ``gc.pid.lock`` left by a runner (or a ``git gc``) killed while
    taking the lock: the next try can take it."""
    try:
        if time.time() - lockfile.stat().st_mtime < STALE_LOCKFILE_SECONDS:
            return
        lockfile.unlink()
    except FileNotFoundError:
        return
    log.warning("removed a stale %s", lockfile)


def _try_gc_lock(repo_path: Path, mine: str) -> bool:
    # git's sequence: create gc.pid.lock exclusively, check gc.pid, write our
    # "<pid> <host>" into the lock file and rename it over gc.pid.
    lockfile = repo_path / f"{GC_PID}.lock"
    try:
        fd = os.open(lockfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        _drop_if_stale(lockfile)  # else someone is taking it right now
        return False
    try:
        if _lock_holder(repo_path / GC_PID) is not None:
            os.close(fd)
            os.unlink(lockfile)
            return False
        os.write(fd, mine.encode())
        os.close(fd)
        os.replace(lockfile, repo_path / GC_PID)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(lockfile)
        raise
    return True


@contextlib.contextmanager
def gc_lock(repo_path: Path, wait: float = 0.0) -> Iterator[bool]:
    """Hold git's ``gc.pid`` lock of the repository; yields False (holding
    nothing) when another runner has it and ``wait`` seconds did not change that.

    ``git gc`` itself honours this lock (it refuses to start while a live
    process, or any process of another host younger than 12 hours, holds it), so
    our runners exclude each other and any ``git gc`` an operator starts.
    """
    mine = f"{os.getpid()} {socket.gethostname()}"
    deadline = time.monotonic() + wait
    while not (held := _try_gc_lock(repo_path, mine)):
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    try:
        yield held
    finally:
        if held:
            # ``git gc --force`` rewrites the file with its own pid and removes it
            # when done: remove it only if it still names us.
            pidfile = repo_path / GC_PID
            with contextlib.suppress(FileNotFoundError):
                if pidfile.read_text().strip() == mine:
                    pidfile.unlink()


def maintain_repo(
    repo_path: Path, settings: RepoSettings, *, force: bool = False, wait: float = 0.0
) -> bool:
    """One maintenance job: remove stale ref locks; pack when loose objects exceed
    the threshold (``git repack -d``, or ``git gc`` once packs pile up) or when
    ``force`` (``git gc``). Returns True if it packed. The pack runs under
    ``gc_lock`` (waiting up to ``wait`` seconds for it); held elsewhere, the
    job is left to that runner."""
    if not (repo_path / "HEAD").is_file():
        return False  # deleted meanwhile
    maintenance.remove_stale_locks(repo_path, settings.stale_lock_seconds)
    threshold = settings.gc_loose_objects
    if not force and not maintenance.needs_gc(repo_path, threshold):
        return False
    with gc_lock(repo_path, wait) as held:
        if not held:
            log.debug("maintenance of %s is running elsewhere", repo_path)
            return False
        if not force and not maintenance.needs_gc(repo_path, threshold):
            return False  # another runner packed it while we waited
        full = force or maintenance.count_packs(repo_path) >= settings.gc_max_packs
        return maintenance.gc(repo_path, git=settings.git, full=full, holding_lock=True)


class Housekeeper:
    """The per-process maintenance thread and its queue of pending repositories."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[Path, tuple[float, RepoSettings]] = {}
        self._running: Path | None = None
        self._thread: threading.Thread | None = None
        self._exit_hook = False

    def after_fork_in_child(self) -> None:
        """A forked child has no thread and must not inherit a held lock; the
        parent's pending jobs stay the parent's."""
        self._reset()

    def schedule(self, repo_path: Path, settings: RepoSettings) -> None:
        """Look at ``repo_path`` within ``settings.maintenance_delay`` seconds
        (joining a pending look). Never raises: a write that landed must not
        fail because of housekeeping."""
        try:
            with self._cond:
                if repo_path not in self._due:
                    due = time.monotonic() + settings.maintenance_delay
                    self._due[repo_path] = (due, settings)
                self._start()
                self._cond.notify_all()
        except Exception:  # noqa: BLE001 - best effort by design
            log.exception("cannot schedule maintenance of %s", repo_path)

    def drain(self, timeout: float | None = None) -> bool:
        """Run every pending job now and wait for them; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._due = {p: (0.0, s) for p, (_d, s) in self._due.items()}
            self._cond.notify_all()
            while self._due or self._running is not None:
                if self._thread is None or not self._thread.is_alive():
                    return not self._due
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def pending(self) -> list[Path]:
        with self._cond:
            return sorted(self._due)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(
            target=self._loop, name="ade-housekeeper", daemon=True
        )
        self._thread.start()
        if not self._exit_hook:
            atexit.register(self.drain, EXIT_DRAIN_SECONDS)
            self._exit_hook = True

    def _next(self) -> tuple[Path, RepoSettings]:
        with self._cond:
            while True:
                if self._due:
                    path, (due, settings) = min(
                        self._due.items(), key=lambda item: item[1][0]
                    )
                    left = due - time.monotonic()
                    if left <= 0:
                        del self._due[path]
                        self._running = path
                        return path, settings
                    self._cond.wait(left)
                else:
                    self._cond.wait()

    def _loop(self) -> None:
        while True:
            path, settings = self._next()
            try:
                maintain_repo(path, settings)
            except Exception:  # noqa: BLE001 - logged; the thread must live on
                log.exception("maintenance of %s failed", path)
            finally:
                with self._cond:
                    self._running = None
                    self._cond.notify_all()


_housekeeper = Housekeeper()
os.register_at_fork(after_in_child=_housekeeper.after_fork_in_child)


def schedule(repo_path: Path, settings: RepoSettings) -> None:
    """Schedule a maintenance look at ``repo_path`` on this process's thread."""
    _housekeeper.schedule(repo_path, settings)


def drain(timeout: float | None = None) -> bool:
    """Run this process's pending maintenance now and wait (tests, shutdown)."""
    return _housekeeper.drain(timeout)


def pending() -> list[Path]:
    """Repositories with a maintenance look pending in this process."""
    return _housekeeper.pending()
