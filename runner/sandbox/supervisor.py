"""The parent side of a sandboxed run: scratch dir, start, watch, copy out.

The supervisor never imports config code. It copies the config and the input into a
private scratch directory, starts one worker (``runner.sandbox.worker``) in its own
session, hands it to a ``WorkerRun`` (``runner.sandbox.watch``) to watch until it is
gone, and copies the output file back out (``runner.sandbox.untrusted``: the worker
wrote it), still under the run's deadline and cancel.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runner.sandbox.cleanup import kill_uid, remove_files_of
from runner.sandbox.isolation import UidLease, probe, scratch_parent, start_worker
from runner.sandbox.limits import Isolation, Limits
from runner.sandbox.mounts import worker_path
from runner.sandbox.pool import SandboxPool, WarmWorker, pool_for
from runner.sandbox.result import SandboxResult
from runner.sandbox.untrusted import copy_out
from runner.sandbox.watch import WorkerRun

__all__ = ["SandboxResult", "run_sandboxed", "worker_args"]


@dataclass(frozen=True)
class Scratch:
    """A run's private directory and the paths of the run inside it."""

    root: Path
    config: Path
    input: Path
    output: Path | None

    def seen_by_worker(self) -> Scratch:
        """The same paths as a worker whose ``/tmp`` is ``root`` sees them."""
        return Scratch(
            *(
                None if p is None else Path(worker_path(p, self.root))
                for p in (self.root, self.config, self.input, self.output)
            )
        )


def stage_run(
    root: Path,
    config_dir: Path,
    input_path: Path,
    output_path: Path | None,
    uid: int | None,
) -> Scratch:
    """Copy config and input into ``root`` and hand what was copied to ``uid``
    (``root`` itself is the caller's: see ``own_scratch``)."""
    config = root / "config"
    # symlinks=True: a link in a config tree must not make *us* read its target.
    shutil.copytree(
        config_dir, config, symlinks=True, ignore=shutil.ignore_patterns(".git")
    )
    suffix = "".join(input_path.suffixes[-1:]).lower()
    staged_input = root / f"input{suffix}"
    shutil.copyfile(input_path, staged_input)
    if uid is not None:
        os.lchown(staged_input, uid, uid)
        os.lchown(config, uid, uid)
        for dirpath, dirnames, filenames in os.walk(config):
            for name in (*dirnames, *filenames):
                os.lchown(os.path.join(dirpath, name), uid, uid)
    output = root / f"output{output_path.suffix}" if output_path else None
    return Scratch(root, config, staged_input, output)


def own_scratch(root: Path, uid: int | None) -> None:
    """Make the scratch dir ``uid``'s own, private (0700)."""
    if uid is not None:
        os.chown(root, uid, uid)
    os.chmod(root, 0o700)


def run_sandboxed(
    config_dir: Path,
    input_path: Path,
    output_path: Path | None,
    *,
    limits: Limits = Limits(),
    sample_rows: int | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    cancel: threading.Event | None = None,
    isolation: Isolation = Isolation(),
    entry: str = "runner.engine:run",
    pool: SandboxPool | None | Literal[False] = None,
) -> SandboxResult:
    """Run ``entry`` (the engine) on one input in a fresh sandboxed worker.

    Never raises for anything the config does; returns ``ok=False`` with a one-line
    ``error``. ``on_progress(phase, rows)`` is called from this thread. ``entry`` is
    ``"module:function"`` with ``runner.engine.run``'s signature (tests use a small
    internal one). ``pool``: where to take a warm worker from; None means the pool
    ``configure_pool`` set up for ``isolation`` in this process (if any), False a
    cold start. With no warm worker at hand the worker is started for the run.
    """
    started = time.monotonic()
    caps = probe(isolation)
    if caps["mode"] != "isolated" and isolation.require_isolation:
        return SandboxResult.failed(f"sandbox unavailable: {caps['reason']}")
    paths = (
        Path(config_dir),
        Path(input_path),
        Path(output_path) if output_path else None,
    )
    watch = dict(limits=limits, on_progress=on_progress, cancel=cancel)
    if pool is None:
        pool = pool_for(isolation)
    warm = pool.take() if pool and caps["mode"] == "isolated" else None
    if warm is not None:
        result = _run_warm(warm, pool, paths, sample_rows, entry, watch)
        if result is not None:
            return result
    lease = UidLease(isolation) if caps["mode"] == "isolated" else None
    if lease is not None and lease.uid is None:
        return SandboxResult.failed("all sandbox slots are busy")
    uid = lease.uid if lease else None
    root = Path(tempfile.mkdtemp(prefix="ade-sandbox-", dir=scratch_parent(isolation)))
    try:
        if uid is not None:
            # Leftovers of a crashed service, and the zombies of the last run with
            # this uid: they count against RLIMIT_NPROC until reaped.
            kill_uid(uid, settle=2.0)
        try:
            scratch = stage_run(root, *paths, uid)
            own_scratch(root, uid)
        except OSError as exc:
            return SandboxResult.failed(f"cannot stage the run: {exc}")
        mounted = uid is not None and bool(caps["pid_namespace"])
        seen = scratch.seen_by_worker() if mounted else scratch
        args = worker_args(seen, limits, sample_rows, entry)
        started_worker = _start(scratch, args, uid, isolation, mounted)
        if isinstance(started_worker, SandboxResult):
            return started_worker
        proc, msg_r = started_worker
        run = WorkerRun(proc, msg_r, uid=uid, started=started, **watch)
        return _copy_out(run, scratch, paths[2], uid)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if lease is not None:
            remove_files_of(lease.uid, isolation.sweep_dirs)
            lease.release()


def _run_warm(
    warm: WarmWorker,
    pool: SandboxPool,
    paths: tuple[Path, Path, Path | None],
    sample_rows: int | None,
    entry: str,
    watch: dict,
) -> SandboxResult | None:
    """Run on a warm worker, then destroy it. None: it was gone before it got
    the job (no config code ran), so the caller starts one cold."""
    ran, result = False, None
    try:
        try:
            scratch = stage_run(warm.root, *paths, warm.uid)
        except OSError as exc:
            return SandboxResult.failed(f"cannot stage the run: {exc}")
        seen = scratch.seen_by_worker() if warm.mounted else scratch
        args = worker_args(seen, watch["limits"], sample_rows, entry)
        started = time.monotonic()  # the deadline runs from the hand-over
        if not warm.hand_over(args):
            return None
        ran = True
        run = WorkerRun(
            warm.proc,
            warm.msg_r,
            uid=warm.uid,
            started=started,
            cpu_offset_ms=warm.cpu_ms,
            **watch,
        )
        result = dataclasses.replace(
            _copy_out(run, scratch, paths[2], warm.uid), pooled=True
        )
        return result
    finally:
        pool.discard(warm, reaped=ran, solver_used=bool(result and result.solver_used))


def _copy_out(
    run: WorkerRun, scratch: Scratch, output_path: Path | None, uid: int | None
) -> SandboxResult:
    """Watch ``run`` to its end, then copy its output out (still under its
    deadline and cancel)."""
    result = run.watch()
    if result.ok and scratch.output is not None:
        problem = copy_out(
            scratch.output,
            output_path,
            owner=os.geteuid() if uid is None else uid,
            max_bytes=run.limits.file_bytes,
            should_stop=run.interrupted,
        )
        if problem:
            result = dataclasses.replace(result, ok=False, report=None, error=problem)
    return result


def worker_args(
    scratch: Scratch, limits: Limits, sample_rows: int | None, entry: str
) -> dict:
    """What ``worker.main`` receives (as JSON on its command line), but for ``fd``
    (the message pipe) and ``sys_path``, which ``_start`` adds. ``scratch`` holds
    the paths as the worker sees them."""
    return {
        "limits": limits.to_dict(),
        "scratch": str(scratch.root),
        "config_dir": str(scratch.config),
        "input_path": str(scratch.input),
        "output_path": str(scratch.output) if scratch.output else None,
        "sample_rows": sample_rows,
        "entry": entry,
    }


def _start(
    scratch: Scratch, args: dict, uid: int | None, isolation: Isolation, mounted: bool
) -> tuple[subprocess.Popen, int] | SandboxResult:
    """Start the worker in its own session: the process and the read end of its
    message pipe, or the failure to start. ``mounted``: in its own mount
    namespace, where it sees ``scratch.root`` as ``/tmp``."""
    try:
        proc, msg_r, _ours = start_worker(isolation, uid, scratch.root, args, mounted)
    except OSError as exc:
        return SandboxResult.failed(f"the worker could not start: {exc}")
    return proc, msg_r
