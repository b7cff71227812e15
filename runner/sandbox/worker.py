"""The sandbox worker: the only process that imports config code.

Started by ``runner.sandbox.supervisor`` as ``python -I -S -B -c BOOTSTRAP ARGS``
(already in its own uid / network namespace where the service runs as root). It sets
its rlimits, moves into its scratch directory, then runs the entry point (normally
``runner.engine:run``) and sends JSON lines over the message pipe:

    {"progress": [phase, rows]}     any number
    {"report": {...}}                once, on success
    {"error": {"kind": ..., "message": ...}}   once, on failure

Config ``print`` goes to stdout/stderr, which the supervisor captures with a cap.

A warm worker (``runner.sandbox.pool``) gets ``{"warm": true, "preload": [...]}``
instead of a job: it imports the modules a run needs, says ``{"ready": {"cpu_ms":
n}}`` on the message pipe, and waits for its one job as a JSON line on stdin. No
config code is loaded before that line arrives, and the process ends with the job.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from runner.sandbox.limits import apply_limits

MAX_JOB_BYTES = 1024 * 1024  # the job line a warm worker reads (paths and limits)

# The bootstrap passed with ``-c``: ``-I -S`` leave only the stdlib on sys.path, so the
# supervisor hands over the project root and site-packages explicitly.
BOOTSTRAP = (
    "import sys, json; a = json.loads(sys.argv[1]); sys.path[0:0] = a['sys_path']; "
    "from runner.sandbox.worker import main; main(a)"
)


def _config_frame(exc: BaseException, config_dir: Path) -> str | None:
    """'columns/x.py line 3 in detect_x' for the innermost config frame, if any."""
    root = str(config_dir) + os.sep
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(root):
            rel = frame.filename[len(root) :]
            found = f"{rel} line {frame.lineno} in {frame.name}"
    return found


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _forking(exc: BaseException) -> bool:
    """Did ``exc`` come from starting a process (``os.fork``, ``subprocess``)?"""
    for frame in traceback.extract_tb(exc.__traceback__):
        if "fork" in (frame.line or "") or frame.name in _SPAWNERS:
            return True
    return False


_SPAWNERS = {"_execute_child", "_fork_exec", "spawnv", "system", "posix_spawn"}


def classify(exc: BaseException, config_dir: Path) -> dict:
    """Turn the exception that ended a run into ``{"kind", "message"}`` (one line)."""
    chain = _chain(exc)
    if any(isinstance(e, MemoryError) for e in chain):
        return {"kind": "memory", "message": "memory limit exceeded"}
    if any(isinstance(e, RecursionError) for e in chain):
        where = _config_frame(exc, config_dir)
        suffix = f" in {where}" if where else ""
        return {"kind": "script", "message": f"recursion too deep{suffix}"}
    for e in chain:
        if isinstance(e, OSError) and e.errno == errno.EAGAIN and _forking(e):
            return {"kind": "processes", "message": "process limit exceeded"}
        if isinstance(e, OSError) and e.errno == errno.EFBIG:
            return {"kind": "file_size", "message": "file size limit exceeded"}
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if name == "ScriptError":
        return {"kind": "script", "message": f"config script error: {text}"}
    if name == "ConfigError":
        return {"kind": "config", "message": f"config error: {text}"}
    if name == "WorkbookError":
        return {"kind": "workbook", "message": f"workbook error: {text}"}
    where = _config_frame(exc, config_dir)
    if where:
        return {
            "kind": "script",
            "message": f"config script error: {where}: {name}: {text}",
        }
    return {"kind": "internal", "message": f"internal error: {name}: {text}"}


def _peak_rss() -> int:
    """This process's own peak RSS (VmHWM). ``getrusage`` would also count the
    parent's memory at fork time, which exec does not reset."""
    with open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _solver_used() -> bool:
    """Whether the run called scipy's solver (the pool then preloads scipy for the
    next workers; see ``pool.SandboxPool.discard``)."""
    mapping = sys.modules.get("runner.mapping")
    return bool(getattr(mapping, "solver_calls", 0))


def _load_entry(spec: str):
    module, _, func = spec.partition(":")
    return getattr(importlib.import_module(module), func)


def _cpu_seconds() -> float:
    used = os.times()
    return used.user + used.system


def _read_job() -> dict | None:
    """The one job line on stdin; None at end of input (the pool let us go)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        chunk = os.read(0, 65536)
        if not chunk or len(line) + len(chunk) > MAX_JOB_BYTES:
            return None
        line += chunk
    job = json.loads(line)
    return job if isinstance(job, dict) else None


def wait_for_job(args: dict) -> dict:
    """Warm worker: import what a run needs, say so, wait for the job (stdin).

    Returns the job's arguments merged into ``args``, with ``cpu_used``: the CPU
    the imports took, which the CPU limit must allow on top of the run's."""
    for name in args.get("preload", ()):
        importlib.import_module(name)
    ready = {"ready": {"cpu_ms": int(_cpu_seconds() * 1000)}}
    os.write(args["fd"], (json.dumps(ready) + "\n").encode())
    job = _read_job()
    if job is None:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return {**args, **job, "cpu_used": _cpu_seconds()}


def main(args: dict) -> None:
    """Run one job described by ``args`` (see ``supervisor.worker_args``); a warm
    worker (``args["warm"]``) first waits for it."""
    if args.get("warm"):
        args = wait_for_job(args)
    apply_limits(args["limits"], args.get("cpu_used", 0.0))
    # As the init of its pid namespace the worker ignores SIGXCPU's default action;
    # exit on it instead (the hard limit's SIGKILL, a second later, still backs this).
    signal.signal(signal.SIGXCPU, lambda *_: os._exit(128 + signal.SIGXCPU))
    os.umask(0o077)
    scratch = Path(args["scratch"])
    os.chdir(scratch)
    tmp = scratch / "tmp"
    tmp.mkdir(exist_ok=True)
    tempfile.tempdir = str(tmp)  # openpyxl's write-only mode spools to temp files
    channel = os.fdopen(args["fd"], "w", encoding="utf-8")
    main_pid = os.getpid()
    config_dir = Path(args["config_dir"])

    def send(message: dict) -> None:
        # A forked child of config code shares the pipe; only the worker speaks.
        if os.getpid() == main_pid:
            channel.write(json.dumps(message, default=str) + "\n")
            channel.flush()

    def progress(phase: str, rows: int) -> None:
        send({"progress": [str(phase), int(rows)]})

    try:
        entry = _load_entry(args["entry"])
        output = args["output_path"]
        report = entry(
            config_dir,
            Path(args["input_path"]),
            Path(output) if output else None,
            sample_rows=args["sample_rows"],
            progress=progress,
        )
        send({"peak_rss_bytes": _peak_rss()})
        send({"solver_used": _solver_used()})
        send({"report": report})
        code = 0
    except BaseException as exc:  # noqa: BLE001 - everything becomes a one-line error
        if os.getpid() != main_pid:
            os._exit(70)
        try:
            send({"error": classify(exc, config_dir)})
            traceback.print_exc()
        except BaseException:  # noqa: BLE001 - e.g. MemoryError while reporting
            pass
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    # Skip atexit handlers and non-daemon threads a config may have left behind.
    os._exit(code)
