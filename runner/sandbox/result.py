"""The outcome of one sandboxed run, and how a worker's end becomes one error line."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from runner.sandbox.limits import Limits, MiB

MAX_ERROR = 2000  # characters of an error line (config code writes the message)


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one run. ``error`` is one line when ``ok`` is False."""

    ok: bool
    report: dict | None
    error: str | None
    logs: list[str]
    elapsed_ms: int
    max_rss_bytes: int = 0  # the worker's peak RSS (VmHWM; getrusage if it died)
    cpu_ms: int = 0
    uid: int | None = None  # the uid the worker ran as (None: not dropped)
    worker_pid: int | None = None  # the worker's (host) process id, gone by now
    pooled: bool = False  # a warm worker from the pool ran it (runner.sandbox.pool)
    solver_used: bool = False  # the run called scipy's solver (said by the worker)

    @classmethod
    def failed(cls, error: str, **details) -> SandboxResult:
        """An ``ok=False`` result with no report; ``details`` fills the other fields
        (``logs``, ``elapsed_ms``, ``max_rss_bytes``, ``cpu_ms``, ``uid`` ...)."""
        details.setdefault("logs", [])
        details.setdefault("elapsed_ms", 0)
        return cls(False, None, error, **details)


def size_text(n: float) -> str:
    """``64 MiB`` or ``65536 bytes``: how limits appear in error lines."""
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n:g} bytes"


def worker_error(message: dict, limits: Limits) -> str:
    """The error line for the worker's own ``{"error": {...}}`` message."""
    text = str(message.get("message", "unknown error"))
    kind = message.get("kind")
    if kind == "memory":
        return f"memory limit exceeded ({size_text(limits.memory_bytes)})"
    if kind == "processes":
        return f"process limit of {limits.processes} exceeded"
    if kind == "file_size":
        return f"file size limit exceeded ({size_text(limits.file_bytes)})"
    line = next((x for x in text.splitlines() if x.strip()), "unknown error")
    return line if len(line) <= MAX_ERROR else line[: MAX_ERROR - 1] + "…"


def exit_error(
    returncode: int,
    cpu_ms: int,
    limits: Limits,
    logs: list[str],
    killed_by_signal: bool,
) -> str | None:
    """The error line for a worker that sent no error message: None if it exited
    cleanly, else what its exit status says (CPU limit, a kill, a crash)."""
    if returncode == 0:
        return None
    if (
        returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU)  # see worker.main
        or cpu_ms >= limits.cpu_seconds * 1000 - 50
    ):
        return f"CPU time limit of {limits.cpu_seconds} s exceeded"
    if returncode == -signal.SIGKILL or killed_by_signal:
        return "the worker was killed (out of memory?)"
    if returncode < 0:
        return f"the worker crashed ({signal.Signals(-returncode).name})"
    last = next((line for line in reversed(logs) if line.strip()), "")
    return f"the worker exited with status {returncode}" + (f": {last}" if last else "")
