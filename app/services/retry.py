"""Multi-file draft commits that lost a race start again from the new tip.

The store's compare-and-swap refuses a commit when a path the caller did not name in
``If-Match`` (the manifest, a file the manifest names) moved meanwhile. Such a write
is retried from scratch (read, validate, commit), a bounded number of times; a path
the caller did name is never retried over (that is a 412).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from app.services.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 8


class Retry(Exception):
    """Raised by an attempt that lost a race it may retry."""


def until_settled(
    attempt: Callable[[], T], what: str = "The draft kept changing; try again."
) -> T:
    """Call ``attempt`` until it returns without raising ``Retry``; a conflict
    saying ``what`` after ``ATTEMPTS`` tries."""
    for _ in range(ATTEMPTS):
        try:
            return attempt()
        except Retry:
            continue
    raise Conflict(what)
