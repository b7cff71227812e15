"""Watching one started worker until it is gone, one method per concern.

``WorkerRun.watch`` pumps three pipes with one ``select`` loop: the message pipe
(progress, report), and the worker's stdout and stderr (kept up to
``Limits.log_bytes``; more than ``Limits.output_bytes`` in all stops the run). At the
wall-clock deadline, on cancel, or once the worker has exited, the whole process
group is killed (and, when isolated, every process left with the worker's uid).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.sandbox.isolation import kill_uid
from runner.sandbox.limits import Limits
from runner.sandbox.result import SandboxResult, exit_error, size_text, worker_error

CHUNK = 65536
POLL = 0.05  # seconds between looks at the deadline and the cancel event
DRAIN = 2.0  # seconds to wait for the pipes once the worker has exited

# How unshare (util-linux 2.38) reports that its child, the worker, died of SIGKILL:
# it tries to re-raise the signal on itself, fails, and exits 1 with this message.
UNSHARE_SIGNAL_NOTE = b"unshare: sigprocmask unblock failed"


@dataclass
class _Stream:
    kept: bytearray = field(default_factory=bytearray)
    total: int = 0


class WorkerRun:
    """One worker process from its start to its ``SandboxResult``.

    Not thread-safe: one thread calls ``watch`` once. ``cancel`` may be set from
    any thread.
    """

    def __init__(
        self,
        proc: subprocess.Popen,
        msg_r: int,
        *,
        uid: int | None,
        limits: Limits,
        started: float,
        on_progress: Callable[[str, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.proc, self.msg_r, self.uid, self.limits = proc, msg_r, uid, limits
        self.started, self.deadline = started, started + limits.wall_seconds
        self.on_progress, self.cancel = on_progress, cancel
        self.streams = {
            proc.stdout.fileno(): _Stream(),
            proc.stderr.fileno(): _Stream(),
        }
        self.message_buf = bytearray()
        self.messages: list[dict] = []
        self.stop: str | None = None  # why we ended the run, first reason wins
        self.exited_at: float | None = None
        self.rusage = None
        self.sel = selectors.DefaultSelector()
        for fd in (msg_r, *self.streams):
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ)

    def watch(self) -> SandboxResult:
        """Pump the pipes until the worker is gone; kill it at deadline or cancel."""
        try:
            while True:
                now = time.monotonic()
                self._check_exit(now)
                if self._drained(now):
                    break
                self._check_deadline_and_cancel(now)
                self._pump()
        finally:
            self._reap()
        return self._result()

    # -- exit, deadline and cancel ------------------------------------------------

    def _check_exit(self, now: float) -> None:
        """Note when the worker has exited. Does not reap it, so its pgid stays
        ours to kill."""
        if self.exited_at is not None:
            return
        info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is not None:
            self.exited_at = now
            self._kill()  # forks left behind hold our pipes

    def _drained(self, now: float) -> bool:
        """Done: the worker exited and every pipe is closed, or something outside
        the group still holds a pipe ``DRAIN`` seconds later."""
        if self.exited_at is None:
            return False
        return not self.sel.get_map() or now - self.exited_at > DRAIN

    def _check_deadline_and_cancel(self, now: float) -> None:
        if self.stop is not None or self.exited_at is not None:
            return
        if now >= self.deadline:
            self._stop(f"time limit of {self.limits.wall_seconds:g} s exceeded")
        elif self.cancel is not None and self.cancel.is_set():
            self._stop("cancelled")

    def _stop(self, reason: str) -> None:
        """End the run for ``reason`` (the first reason is the one reported)."""
        if self.stop is None:
            self.stop = reason
            self._kill()

    def _kill(self, settle: float = 0.0) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.uid is not None:
            kill_uid(self.uid, settle)

    # -- the pipes ----------------------------------------------------------------

    def _pump(self) -> None:
        """Read whatever the pipes have, waiting at most ``POLL`` seconds."""
        if not self.sel.get_map():
            time.sleep(POLL / 2)
            return
        for key, _ in self.sel.select(timeout=POLL):
            try:
                data = os.read(key.fd, CHUNK)
            except BlockingIOError:
                continue
            if not data:
                self.sel.unregister(key.fd)
            elif key.fd == self.msg_r:
                self._on_messages(data)
            else:
                self._on_output(key.fd, data)

    def _on_messages(self, data: bytes) -> None:
        """Frame the message pipe into JSON lines; progress is passed on at once."""
        self.message_buf += data
        if len(self.message_buf) > self.limits.report_bytes:
            self._stop(f"report larger than {size_text(self.limits.report_bytes)}")
        if b"\n" not in data:
            return  # a long report arrives in many chunks
        *lines, rest = self.message_buf.split(b"\n")
        self.message_buf = bytearray(rest)
        for line in lines:
            msg = _parse(line)
            if "progress" not in msg:
                self.messages.append(msg)
            elif self.on_progress is not None:
                _progress(self.on_progress, msg["progress"])

    def _on_output(self, fd: int, data: bytes) -> None:
        """Keep the first ``log_bytes`` of each stream; stop past ``output_bytes``."""
        s = self.streams[fd]
        s.total += len(data)
        room = self.limits.log_bytes - len(s.kept)
        if room > 0:
            s.kept += data[:room]
        if sum(x.total for x in self.streams.values()) > self.limits.output_bytes:
            self._stop(
                f"output limit of {size_text(self.limits.output_bytes)} exceeded "
                "(the config printed too much)"
            )

    # -- the end --------------------------------------------------------------------

    def _reap(self) -> None:
        self.sel.close()
        self._kill()
        _, status, self.rusage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        if self.uid is not None:
            kill_uid(
                self.uid
            )  # its zombies are waited for by the next lease of this uid
        os.close(self.msg_r)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def _result(self) -> SandboxResult:
        logs = self._logs()
        rusage, messages = self.rusage, self.messages
        cpu_ms = int((rusage.ru_utime + rusage.ru_stime) * 1000) if rusage else 0
        peaks = [m["peak_rss_bytes"] for m in messages if "peak_rss_bytes" in m]
        rss = int(peaks[-1]) if peaks else (rusage.ru_maxrss * 1024 if rusage else 0)
        report = next((m["report"] for m in messages if "report" in m), None)
        error = self.stop or self._error(cpu_ms, logs)
        if error is None and report is None:
            error = "the worker ended without a report"
        if error is None and not isinstance(report, dict):
            error = "the worker returned a malformed report"
        elapsed = int((time.monotonic() - self.started) * 1000)
        details = dict(
            logs=logs,
            elapsed_ms=elapsed,
            max_rss_bytes=rss,
            cpu_ms=cpu_ms,
            uid=self.uid,
        )
        if error is not None:
            return SandboxResult.failed(error, **details)
        return SandboxResult(True, report, None, **details)

    def _error(self, cpu_ms: int, logs: list[str]) -> str | None:
        for msg in self.messages:
            err = msg.get("error")
            if isinstance(err, dict):
                return worker_error(err, self.limits)
        signalled = any(UNSHARE_SIGNAL_NOTE in s.kept for s in self.streams.values())
        return exit_error(self.proc.returncode, cpu_ms, self.limits, logs, signalled)

    def _logs(self) -> list[str]:
        logs: list[str] = []
        for s in self.streams.values():
            if not s.total:
                continue
            text = s.kept.decode("utf-8", "replace")
            logs.extend(x for x in text.splitlines() if not x.startswith("unshare: "))
            if s.total > len(s.kept):
                logs.append(
                    f"[... {s.total - len(s.kept)} more bytes of output dropped]"
                )
        return logs


def _progress(callback: Callable[[str, int], None], value: object) -> None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    ):
        callback(value[0], value[1])


def _parse(line: bytes) -> dict:
    try:
        msg = json.loads(line)
    except ValueError:
        return {"error": {"kind": "protocol", "message": "garbled worker message"}}
    return msg if isinstance(msg, dict) else {}
