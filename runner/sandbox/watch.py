"""Watching one started worker until it is gone, one method per concern.

``WorkerRun.watch`` pumps three pipes with one ``select`` loop: the message pipe
(progress, report: ``runner.sandbox.channel``), and the worker's stdout and stderr
(kept up to ``Limits.log_bytes``; more than ``Limits.output_bytes`` in all stops the
run). What the run keeps (report, messages, logs) is charged to one budget of
``Limits.report_bytes``; past it the run is stopped. At the wall-clock deadline, on
cancel, or once the worker has exited, the whole process group is killed (and, when
isolated, every process left with the worker's uid). No call here blocks for longer
than ``POLL``: cancel ends a run whatever it is doing.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.sandbox.channel import Budget, MessageChannel
from runner.sandbox.cleanup import kill_uid
from runner.sandbox.limits import Limits
from runner.sandbox.result import SandboxResult, exit_error, size_text, worker_error

CHUNK = 65536
POLL = 0.05  # seconds between looks at the deadline and the cancel event
DRAIN = 2.0  # seconds to wait for the pipes once the worker has exited
KILL_GRACE = 5.0  # seconds a killed worker may take to go before we stop waiting

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
        cpu_offset_ms: int = 0,
    ) -> None:
        self.proc, self.msg_r, self.uid, self.limits = proc, msg_r, uid, limits
        # CPU the worker spent before the run (a warm worker's imports).
        self.cpu_offset_ms = cpu_offset_ms
        self.started, self.deadline = started, started + limits.wall_seconds
        self.cancel = cancel
        self.streams = {
            proc.stdout.fileno(): _Stream(),
            proc.stderr.fileno(): _Stream(),
        }
        self.budget = Budget(limits.report_bytes)
        self.channel = MessageChannel(self.budget, on_progress)
        self.stop: str | None = None  # why we ended the run, first reason wins
        self.stopped_at: float | None = None
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
        the group still holds a pipe ``DRAIN`` seconds later; or we killed it
        ``KILL_GRACE`` seconds ago and it is still there (stuck in the kernel)."""
        if self.exited_at is None:
            return self.stopped_at is not None and now - self.stopped_at > KILL_GRACE
        return not self.sel.get_map() or now - self.exited_at > DRAIN

    def interrupted(self) -> str | None:
        """Why the run must end now: its deadline passed, or it was cancelled.
        Also asked by work done after the worker is gone (the copy-out)."""
        if time.monotonic() >= self.deadline:
            return f"time limit of {self.limits.wall_seconds:g} s exceeded"
        if self.cancel is not None and self.cancel.is_set():
            return "cancelled"
        return None

    def _check_deadline_and_cancel(self, now: float) -> None:
        if self.stop is None and self.exited_at is None:
            reason = self.interrupted()
            if reason is not None:
                self._stop(reason)

    def _stop(self, reason: str) -> None:
        """End the run for ``reason`` (the first reason is the one reported)."""
        if self.stop is None:
            self.stop, self.stopped_at = reason, time.monotonic()
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
        if not self.channel.feed(data):
            self._over_budget()

    def _over_budget(self) -> None:
        self._stop(f"report and messages larger than {size_text(self.budget.total)}")

    def _on_output(self, fd: int, data: bytes) -> None:
        """Keep the first ``log_bytes`` of each stream; stop past ``output_bytes``."""
        s = self.streams[fd]
        s.total += len(data)
        room = self.limits.log_bytes - len(s.kept)
        if room > 0:
            s.kept += data[:room]
            if not self.budget.charge(min(room, len(data))):
                self._over_budget()
        if sum(x.total for x in self.streams.values()) > self.limits.output_bytes:
            self._stop(
                f"output limit of {size_text(self.limits.output_bytes)} exceeded "
                "(the config printed too much)"
            )

    # -- the end --------------------------------------------------------------------

    def _reap(self) -> None:
        self.sel.close()
        self._kill()
        self._wait()
        if self.uid is not None:
            kill_uid(
                self.uid
            )  # its zombies are waited for by the next lease of this uid
        os.close(self.msg_r)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def _wait(self) -> None:
        """Reap the killed worker; one stuck in the kernel is left to a thread."""
        give_up = time.monotonic() + KILL_GRACE
        while True:
            pid, status, rusage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.rusage = rusage
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return
            if time.monotonic() > give_up:
                break
            time.sleep(0.01)
        threading.Thread(target=self.proc.wait, daemon=True).start()
        self.proc.returncode = -signal.SIGKILL

    def _result(self) -> SandboxResult:
        logs = self._logs()
        rusage, channel = self.rusage, self.channel
        cpu_ms = int((rusage.ru_utime + rusage.ru_stime) * 1000) if rusage else 0
        cpu_ms = max(0, cpu_ms - self.cpu_offset_ms)
        rss = channel.peak_rss
        if rss is None:
            rss = rusage.ru_maxrss * 1024 if rusage else 0
        report = channel.report
        error = self.stop or self._error(cpu_ms, logs)
        if error is None and not channel.has_report:
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
            worker_pid=self.proc.pid,
            solver_used=channel.solver_used,
        )
        if error is not None:
            return SandboxResult.failed(error, **details)
        return SandboxResult(True, report, None, **details)

    def _error(self, cpu_ms: int, logs: list[str]) -> str | None:
        if self.channel.error is not None:
            return worker_error(self.channel.error, self.limits)
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
