"""Warm sandbox workers: started ahead of the runs, each used for one run only.

A ``SandboxPool`` keeps up to ``size`` workers ready for one ``Isolation``. Each
was started exactly as a cold run's worker is (``isolation.worker_command``: own
uid lease, network, IPC, pid and mount namespaces, its own empty 0700 scratch dir
as ``/tmp``, the uid dropped for good) and has imported the engine
(``PRELOAD``), but has loaded no config code: it waits on its stdin for one job
(``worker.wait_for_job``). A run takes one (``take``), stages its config and
input into that worker's scratch dir, hands the job over and watches it as a cold
run (``supervisor.run_sandboxed``); then the worker is destroyed like a cold
run's (``discard``: every process of its uid killed, its files swept, the lease
released) and a background thread starts a replacement. A worker is never given
a second job, so runs are exactly as isolated from each other as without the pool.
Workers idle longer than ``idle_seconds`` are replaced.

The pool of a process is set up once with ``configure_pool`` (the app and
``ade worker`` do it from their settings; this package reads no environment) and
found by ``run_sandboxed`` through ``pool_for``. A forked child (a gunicorn
worker) does not inherit it: the pool's thread does not survive a fork and its
workers stay the parent's, so the child starts its own on first use.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.sandbox.cleanup import kill_uid, remove_files_of
from runner.sandbox.isolation import UidLease, probe, scratch_parent, start_worker
from runner.sandbox.limits import Isolation
from runner.sandbox.mounts import worker_sys_path

log = logging.getLogger(__name__)

PRELOAD = ("runner.engine",)  # what every run imports first
# The map phase imports scipy only for larger contested problems (runner/mapping.py):
# ~0.35 s more per start. Replacements preload it while the pool's runs use it.
SOLVER_MODULE = "scipy.optimize"
READY_TIMEOUT = 120.0  # seconds a warm worker may take to import PRELOAD
REFILL_DELAY = 2.0  # s after a take before its replacement starts anyway
TAKE_WAIT = 10.0  # s a run waits for a worker being started (a cold start is longer)
MAX_READY_LINE = 4096
FAILURES_BEFORE_BACKOFF = 3
BACKOFF = (30.0, 300.0)  # first and longest pause after repeated failed starts
KILL_GRACE = 5.0
LOOK = 1.0  # seconds between the filler's looks at its idle workers


@dataclass
class WarmWorker:
    """One started worker waiting for its job. Owned by the pool while ready, by
    the run that took it afterwards."""

    lease: UidLease
    root: Path  # its scratch dir (its /tmp when ``mounted``)
    proc: subprocess.Popen
    msg_r: int
    mounted: bool
    born: float  # time.monotonic() at start
    sys_path: tuple[str, ...] = ()  # the import path it was started with (ours)
    cpu_ms: int = 0  # CPU spent getting ready (imports), said by the worker

    @property
    def uid(self) -> int:
        return self.lease.uid

    def alive(self) -> bool:
        info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return info is None

    def hand_over(self, args: dict) -> bool:
        """Send the job; False if the worker is gone (it ran nothing then)."""
        try:
            self.proc.stdin.write((json.dumps(args) + "\n").encode())
            self.proc.stdin.close()
        except (OSError, ValueError):
            return False
        return True

    def destroy(self, isolation: Isolation, reaped: bool) -> None:
        """Kill it and everything of its uid, remove its files, free its uid.
        ``reaped``: a ``WorkerRun`` already killed, reaped it and closed its pipes."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if not reaped:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            kill_uid(self.uid)
            try:
                self.proc.wait(KILL_GRACE)
            except subprocess.TimeoutExpired:
                threading.Thread(target=self.proc.wait, daemon=True).start()
            os.close(self.msg_r)
            self.proc.stdout.close()
            self.proc.stderr.close()
            kill_uid(self.uid)
        shutil.rmtree(self.root, ignore_errors=True)
        remove_files_of(self.uid, isolation.sweep_dirs)
        self.lease.release()


def start_warm_worker(
    isolation: Isolation,
    preload: tuple[str, ...] = PRELOAD,
    should_stop: Callable[[], bool] = lambda: False,
) -> WarmWorker | str:
    """Start one worker and wait until it is ready; the worker or why not."""
    caps = probe(isolation)
    if caps["mode"] != "isolated":
        return f"no isolated sandbox here: {caps['reason']}"
    lease = UidLease(isolation)
    if lease.uid is None:
        return "all sandbox slots are busy"
    root = Path(tempfile.mkdtemp(prefix="ade-sandbox-", dir=scratch_parent(isolation)))
    try:
        kill_uid(lease.uid, settle=2.0)  # a crashed service's leftovers, zombies
        os.chown(root, lease.uid, lease.uid)
        os.chmod(root, 0o700)
        worker = _spawn(isolation, lease, root, preload, bool(caps["pid_namespace"]))
    except OSError as exc:
        worker = f"the worker could not start: {exc}"
    if isinstance(worker, str):
        shutil.rmtree(root, ignore_errors=True)
        remove_files_of(lease.uid, isolation.sweep_dirs)
        lease.release()
        return worker
    problem = _await_ready(worker, should_stop)
    if problem is not None:
        worker.destroy(isolation, reaped=False)
        return problem
    return worker


def _spawn(
    isolation: Isolation,
    lease: UidLease,
    root: Path,
    preload: tuple[str, ...],
    mounted: bool,
) -> WarmWorker:
    args = {"warm": True, "preload": list(preload)}
    proc, msg_r, ours = start_worker(
        isolation, lease.uid, root, args, mounted, stdin=subprocess.PIPE
    )
    return WarmWorker(lease, root, proc, msg_r, mounted, time.monotonic(), tuple(ours))


def _await_ready(worker: WarmWorker, should_stop: Callable[[], bool]) -> str | None:
    """Read the worker's ready line; None once it said it, else what went wrong."""
    line = bytearray()
    give_up = time.monotonic() + READY_TIMEOUT
    with selectors.DefaultSelector() as sel:
        sel.register(worker.msg_r, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            if should_stop():
                return "the pool is stopping"
            if time.monotonic() > give_up:
                return f"not ready within {READY_TIMEOUT:g} s"
            if not sel.select(timeout=0.1):
                continue
            data = os.read(worker.msg_r, MAX_READY_LINE)
            if not data or len(line) + len(data) > MAX_READY_LINE:
                return "the warm worker failed" + _last_words(worker)
            line += data
    try:
        worker.cpu_ms = int(json.loads(line)["ready"]["cpu_ms"])
    except (ValueError, KeyError, TypeError):
        return "the warm worker sent a garbled ready line"
    return None


def _last_words(worker: WarmWorker) -> str:
    """': <last line of stderr>' of a worker that died starting, if it said any."""
    fd = worker.proc.stderr.fileno()
    os.set_blocking(fd, False)
    try:
        err = os.read(fd, 65536)
    except OSError:
        return ""
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:]
    return f": {tail[0]}" if tail else ""


class SandboxPool:
    """Up to ``size`` warm workers for ``isolation``, refilled by one thread."""

    def __init__(
        self,
        isolation: Isolation,
        size: int,
        idle_seconds: float,
        preload: tuple[str, ...] = PRELOAD,
    ) -> None:
        self.isolation, self.size = isolation, max(0, size)
        self.idle_seconds, self.preload = idle_seconds, preload
        self._cond = threading.Condition()
        self._ready: list[WarmWorker] = []
        self._starting = False
        self._stopped = False
        self._failures = 0
        self._retry_at = 0.0
        self._hold_until = 0.0  # no replacement before this (a run is going on)
        self._with_solver = False  # the last run used scipy's solver
        self._thread: threading.Thread | None = None
        self.started = 0  # workers started (and ready) so far, for tests and metrics

    # -- the runs' side -----------------------------------------------------------

    def take(self, wait: float = TAKE_WAIT) -> WarmWorker | None:
        """A ready worker, now yours to hand a job and ``discard``; None if none is
        ready within ``wait`` seconds (waited only while one is being started)."""
        give_up = time.monotonic() + wait
        stale: list[WarmWorker] = []
        taken = None
        # A worker imports from the path of its start: one started before our
        # sys.path changed (a test, a plugin dir) could not find the entry.
        path = tuple(worker_sys_path())
        with self._cond:
            while taken is None and not self._stopped:
                while self._ready and taken is None:
                    worker = self._ready.pop(0)
                    usable = worker.sys_path == path and self._fresh(worker)
                    if usable and worker.alive():
                        taken = worker
                    else:
                        stale.append(worker)
                now = time.monotonic()
                if taken or not self._starting or now >= give_up:
                    break
                self._cond.wait(give_up - now)
            if taken is not None:
                # The replacement starts when the run ends (``discard``), or
                # after REFILL_DELAY if it runs long: a start (~0.6 s CPU) beside
                # a short run would slow it down on a small host.
                self._hold_until = time.monotonic() + REFILL_DELAY
        for worker in stale:
            worker.destroy(self.isolation, reaped=False)
        if stale:
            with self._cond:
                self._cond.notify_all()  # replace them
        return taken

    def discard(
        self, worker: WarmWorker, reaped: bool, solver_used: bool = False
    ) -> None:
        """Destroy a worker that was taken (it ran a job, or failed to take one);
        the filler starts its replacement. ``solver_used``: the run called scipy's
        solver, so replacements import it ahead (until a run that does not)."""
        worker.destroy(self.isolation, reaped)
        with self._cond:
            self._hold_until = 0.0
            self._with_solver = solver_used
            self._cond.notify_all()

    def next_preload(self) -> tuple[str, ...]:
        """What the next started worker imports before its job."""
        with self._cond:
            if self._with_solver and SOLVER_MODULE not in self.preload:
                return (*self.preload, SOLVER_MODULE)
            return self.preload

    def ready_count(self) -> int:
        with self._cond:
            return len(self._ready)

    def settled(self) -> bool:
        """Full, and no worker being started (for tests that watch processes)."""
        with self._cond:
            return len(self._ready) >= self.size and not self._starting

    def worker_pids(self) -> list[int]:
        """Host pids of the ready workers (their outermost process)."""
        with self._cond:
            return [w.proc.pid for w in self._ready]

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> SandboxPool:
        if self.size and self._thread is None:
            self._thread = threading.Thread(
                target=self._fill, name="ade-sandbox-pool", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop refilling and destroy every ready worker (taken ones go with
        their runs)."""
        with self._cond:
            self._stopped = True
            ready, self._ready = self._ready, []
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        for worker in ready:
            worker.destroy(self.isolation, reaped=False)

    def forget(self) -> None:
        """In a forked child: drop the parent's workers without touching them
        (close our copies of their pipes and uid locks: a copy of a lock would
        keep the uid taken after the parent released it)."""
        self._stopped = True
        for worker in self._ready:
            for stream in (worker.proc.stdin, worker.proc.stdout, worker.proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
            try:
                os.close(worker.msg_r)
            except OSError:
                pass
            worker.lease.forget()
        self._ready = []

    # -- the filler thread --------------------------------------------------------

    def _fresh(self, worker: WarmWorker) -> bool:
        return time.monotonic() - worker.born < self.idle_seconds

    def _fill(self) -> None:
        while True:
            with self._cond:
                # Idle too long, or gone (killed from outside): replaced.
                expired = [w for w in self._ready if not (self._fresh(w) and w.alive())]
                self._ready = [w for w in self._ready if w not in expired]
                if self._stopped:
                    return
                start = (
                    len(self._ready) < self.size
                    and time.monotonic() >= max(self._retry_at, self._hold_until)
                    and not expired
                )
                if not start and not expired:
                    self._cond.wait(self._nap())
                    continue
                self._starting = start
            for worker in expired:
                worker.destroy(self.isolation, reaped=False)
            if start:
                self._start_one()

    def _nap(self) -> float:
        """Seconds until the filler has something to do, at most ``LOOK``."""
        now = time.monotonic()
        wake = [now + LOOK]
        wake += [w.born + self.idle_seconds for w in self._ready]
        for later in (self._retry_at, self._hold_until):
            if later > now:
                wake.append(later)
        return max(0.01, min(wake) - now)

    def _start_one(self) -> None:
        try:
            got = start_warm_worker(
                self.isolation, self.next_preload(), self._is_stopped
            )
        except Exception as exc:  # noqa: BLE001 - the pool must outlive a bad start
            got = f"{type(exc).__name__}: {exc}"
        with self._cond:
            self._starting = False
            keep = isinstance(got, WarmWorker) and not self._stopped
            if keep:
                self._ready.append(got)
                self.started += 1
                self._failures = 0
            elif isinstance(got, str) and not self._stopped:
                self._note_failure(got)
            self._cond.notify_all()
        if isinstance(got, WarmWorker) and not keep:
            got.destroy(self.isolation, reaped=False)

    def _note_failure(self, problem: str) -> None:
        self._failures += 1
        log.warning("sandbox pool: a warm worker did not start: %s", problem)
        if self._failures >= FAILURES_BEFORE_BACKOFF:
            first, longest = BACKOFF
            extra = self._failures - FAILURES_BEFORE_BACKOFF
            pause = min(longest, first * 2**extra)
            self._retry_at = time.monotonic() + pause
            log.warning("sandbox pool: cold starts only for %.0f s", pause)

    def _is_stopped(self) -> bool:
        return self._stopped


# -- the process's pools ------------------------------------------------------------

_lock = threading.Lock()
_settings: dict[Isolation, tuple[int, float]] = {}
_pools: dict[Isolation, SandboxPool] = {}


def configure_pool(
    size: int, idle_seconds: float, isolation: Isolation = Isolation()
) -> SandboxPool | None:
    """Keep ``size`` warm workers for ``isolation`` in this process (0: none), each
    replaced after ``idle_seconds`` unused (0: no pool either). Starts the pool now;
    the same settings again keep the running one. Returns it (None when off)."""
    if idle_seconds <= 0:
        size = 0
    with _lock:
        old = _pools.get(isolation)
        if _settings.get(isolation) == (size, idle_seconds) and (old or not size):
            return old
        _settings[isolation] = (size, idle_seconds)
        _pools.pop(isolation, None)
    if old is not None:
        old.stop()
    return pool_for(isolation)


def pool_for(isolation: Isolation) -> SandboxPool | None:
    """This process's pool for ``isolation``: None if none was configured; started
    here on first use (after a fork, the child's own)."""
    with _lock:
        pool = _pools.get(isolation)
        size, idle = _settings.get(isolation, (0, 0))
        if pool is None and size > 0:
            if probe(isolation)["mode"] != "isolated":
                return None  # limits only: nothing to keep warm (cold starts)
            pool = _pools[isolation] = SandboxPool(isolation, size, idle).start()
        return pool


def shutdown_pools() -> None:
    """Stop every pool of this process and forget the settings (at exit)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
        _settings.clear()
    for pool in pools:
        pool.stop()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    for pool in _pools.values():
        pool.forget()
    _pools.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown_pools)
