"""The worker's message pipe: JSON lines, parsed one at a time, within a budget.

The worker writes ``{"progress": [phase, rows]}`` lines, then ``{"peak_rss_bytes":
n}``, ``{"solver_used": bool}`` and ``{"report": {...}}``, or ``{"error": {...}}``.
Config code runs in the worker's process and may write anything on the pipe, so the
service keeps only what it needs (the first report, the first error, the last peak,
whether the solver ran: it only decides what the pool preloads) and charges every line
but progress to the run's ``Budget``: past it the run is stopped. Each line is
charged a bound of the memory its parsed form takes (``parsed_size_bound``), checked
*before* parsing: 4 MB of ``[{},{},...]`` is 100 MB of Python dicts.
"""

from __future__ import annotations

import json
from collections.abc import Callable

# At most what one JSON value costs in CPython beyond its own text: the object
# head (a dict is 64 bytes, a list 56, a float 24, a str 49 + its text), the slot
# that holds it, a dict entry, the decoder's memo of a key.
VALUE_OVERHEAD = 96
MAX_PHASE = 64  # characters of a progress phase passed on


class Budget:
    """Bytes of service memory one run may hold: its report, messages and logs."""

    def __init__(self, total: int) -> None:
        self.total, self.used = total, 0

    def room(self) -> int:
        return self.total - self.used

    def charge(self, n: int) -> bool:
        """Count ``n`` more bytes; False once past the total."""
        self.used += n
        return self.used <= self.total


def parsed_size_bound(line: bytes | bytearray) -> int:
    """An upper bound of the memory ``json.loads(line)`` takes, kept and transient.

    Every value but the first follows one of ``, : [ {``. The decoded text is a
    transient copy, and a str takes 4 bytes a character once one character in it is
    outside Latin-1, which needs a non-ASCII byte or a ``\\u`` escape.
    """
    values = 1 + sum(line.count(c) for c in (b",", b":", b"[", b"{"))
    wide = 1 if line.isascii() and b"\\u" not in line else 4
    return 2 * wide * len(line) + VALUE_OVERHEAD * values


class MessageChannel:
    """Frames the message pipe; ``feed`` each read, then read the kept fields."""

    def __init__(
        self,
        budget: Budget,
        on_progress: Callable[[str, int], None] | None = None,
    ) -> None:
        self.budget, self.on_progress = budget, on_progress
        self.pending = bytearray()  # the unfinished line
        self.over = False
        self.has_report = False
        self.report: object = None
        self.error: dict | None = None
        self.peak_rss: int | None = None
        self.solver_used = False

    def feed(self, data: bytes) -> bool:
        """Take one read of the pipe; False once the budget is exceeded (from then
        on everything is dropped and the run must be stopped)."""
        start = 0
        while not self.over:
            end = data.find(b"\n", start)
            if end < 0:
                self.pending += data[start:]
                self.over = len(self.pending) > self.budget.room()
                break
            self.pending += data[start:end]
            line, self.pending = self.pending, bytearray()
            self.over = not self._take(line)
            start = end + 1
        if self.over:
            self.pending = bytearray()
        return not self.over

    def _take(self, line: bytearray) -> bool:
        cost = parsed_size_bound(line)
        if cost > self.budget.room():
            return False
        msg = _parse(line)
        if "progress" in msg:
            self._progress(msg["progress"])
            return True
        self._keep(msg)
        return self.budget.charge(cost)

    def _keep(self, msg: dict) -> None:
        if "report" in msg and not self.has_report:
            self.has_report, self.report = True, msg["report"]
        error = msg.get("error")
        if isinstance(error, dict) and self.error is None:
            self.error = error
        peak = msg.get("peak_rss_bytes")
        if isinstance(peak, int) and not isinstance(peak, bool) and peak >= 0:
            self.peak_rss = peak
        if msg.get("solver_used") is True:
            self.solver_used = True

    def _progress(self, value: object) -> None:
        if (
            self.on_progress is not None
            and isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], int)
            and not isinstance(value[1], bool)
            and 0 <= value[1] < 2**63
        ):
            self.on_progress(value[0][:MAX_PHASE], value[1])


def _parse(line: bytearray) -> dict:
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError):
        return {"error": {"kind": "protocol", "message": "garbled worker message"}}
    return msg if isinstance(msg, dict) else {}
