"""Waiting on a condition instead of sleeping a fixed time.

A fixed ``time.sleep`` is either too short on a loaded machine (a flaky test) or
longer than needed everywhere else (a slow suite). ``wait_for`` polls until the
condition holds and fails with what it waited for, and what it last saw, when the
timeout runs out. Timeouts here catch a hang: make them generous, never a
performance bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


class WaitTimeout(AssertionError):
    """The condition did not hold within the timeout (a test failure)."""


def wait_for(
    predicate: Callable[[], _T],
    timeout: float = 30.0,
    interval: float = 0.05,
    *,
    what: str = "",
    last: Callable[[], object] | None = None,
) -> _T:
    """Call ``predicate`` every ``interval`` seconds until it returns something
    truthy, and return that. After ``timeout`` seconds raise ``WaitTimeout`` naming
    ``what`` (default: the predicate's name) and the last value seen, or ``last()``
    when given (e.g. the log of the server that never came up)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            seen = last() if last is not None else value
            name = what or getattr(predicate, "__name__", repr(predicate))
            raise WaitTimeout(
                f"timed out after {timeout:g} s waiting for {name}; last seen: {seen!r}"
            )
        time.sleep(interval)
