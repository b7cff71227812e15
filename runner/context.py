"""The per-run `ctx` object handed to config hooks, and the hook-calling wrapper.

`ConfigError` and `ScriptError` live here (and are re-exported by `runner.engine`) so
every pipeline module can raise them without importing the engine.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# The fixed run order (SPEC §7); the API's draft:plan shows it.
PHASES = (
    "extract",
    "run_start",
    "prepare",
    "detect",
    "map",
    "transform",
    "transform_table",
    "validate",
    "run_end",
    "write",
)


MAX_LOGS = 1000
MAX_LOG_CHARS = 2000


class ConfigError(Exception):
    """The config package is unusable (bad manifest, missing file, import failed)."""


class ScriptError(Exception):
    """A config hook raised or returned something unusable.

    The message names the file, the function, the line and the exception.
    """


class Context:
    """What hooks see as `ctx`: logging, shared state, and where the run is."""

    def __init__(self, manifest: Mapping[str, Any], max_logs: int = MAX_LOGS):
        self.manifest = manifest
        self.state: dict[str, Any] = {}
        self.sheet: str | None = None
        self.table: Any = None  # the current runner.extract.Table, read-only
        self.logs: list[str] = []
        self._max_logs = max_logs
        self._dropped = 0

    def log(self, msg: object) -> None:
        """Add one line to the report's logs (capped; long lines are cut)."""
        if len(self.logs) >= self._max_logs:
            self._dropped += 1
            return
        text = str(msg)
        if len(text) > MAX_LOG_CHARS:
            text = text[:MAX_LOG_CHARS] + "…"
        self.logs.append(text)

    def take_logs(self, since: int, dropped: int) -> tuple[list[str], int]:
        """Remove and return the lines logged after ``len(logs) == since`` and the
        count dropped after ``dropped``: a trial run's logs, kept aside."""
        lines = self.logs[since:]
        del self.logs[since:]
        extra = self._dropped - dropped
        self._dropped = dropped
        return lines, extra

    def put_logs(self, lines: list[str], dropped: int) -> None:
        """Log lines set aside by ``take_logs`` (the cap still applies)."""
        for line in lines:
            self.log(line)
        self._dropped += dropped

    @property
    def dropped(self) -> int:
        """Log lines the cap has dropped so far."""
        return self._dropped

    def final_logs(self) -> list[str]:
        """The collected logs, with a note when the cap dropped some."""
        if not self._dropped:
            return list(self.logs)
        return [*self.logs, f"... {self._dropped} more log lines dropped"]


class Hook:
    """A config function plus where it came from, for error messages."""

    __slots__ = ("fn", "name", "path", "root")

    def __init__(self, fn: Callable[..., Any], path: str, root: Path):
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn))
        self.path = path  # relative to the package, e.g. "columns/zip.py"
        self.root = root

    def __call__(self, **kwargs: Any) -> Any:
        try:
            return self.fn(**kwargs)
        except (Exception, SystemExit) as exc:  # config code may raise anything
            raise ScriptError(self._describe(exc)) from exc

    def error(self, exc: BaseException, where: str = "") -> ScriptError:
        """The ScriptError for ``exc`` raised by ``fn`` called directly (a hot
        loop that skips ``__call__``'s wrapper); ``where`` adds e.g. the row."""
        return ScriptError(self._describe(exc) + (f" ({where})" if where else ""))

    def fail(self, problem: str) -> ScriptError:
        """A ScriptError for a hook that returned something unusable."""
        line = getattr(getattr(self.fn, "__code__", None), "co_firstlineno", "?")
        return ScriptError(f"{self.path}:{line} in {self.name}(): {problem}")

    def _describe(self, exc: BaseException) -> str:
        # Blame the innermost frame inside the package (a helper module the hook
        # imported counts); fall back to the hook's own definition line.
        path, line = self.path, None
        root = str(self.root) + "/"
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.startswith(root):
                path = Path(frame.filename).relative_to(self.root).as_posix()
                line = frame.lineno
        if line is None:
            line = getattr(getattr(self.fn, "__code__", None), "co_firstlineno", "?")
        detail = str(exc)
        detail = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        return f"{path}:{line} in {self.name}(): {detail}"
