"""How many dry runs a token and a workspace may have in flight, across every
process of this host: a run holds one slot file of each, ``flock``'d.

A limit of ``n`` is ``n`` files under ``<data>/locks/dry-runs/<who>/``; a run takes
the first one no other open file holds, and keeps the descriptor until it ends. The
kernel drops a lock when its holder closes it or dies, so a crashed gunicorn worker
frees its slots without any clean-up. The files live in the data dir, whose locks
are per host (a lock on a network file system is not to be trusted): with several
API hosts, each host allows this many.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
from pathlib import Path

from app.services.errors import TooMany

_SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Slots:
    """Slot files held for one run; ``release`` (idempotent) lets them go."""

    def __init__(self, fds: list[int]) -> None:
        self._fds = fds

    def release(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)  # closing the only descriptor drops its flock


def slots_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "locks" / "dry-runs"


def _folder(data_dir: Path, kind: str, ident: str) -> Path:
    name = (
        ident if _SAFE.fullmatch(ident) else hashlib.sha256(ident.encode()).hexdigest()
    )
    return slots_dir(data_dir) / f"{kind}-{name}"


def _take_one(folder: Path, limit: int) -> int | None:
    """The descriptor of a free slot of ``folder`` (locked), or None when all
    ``limit`` are held."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for n in range(limit):
        fd = os.open(
            folder / str(n),
            os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            continue
        return fd
    return None


def take(
    data_dir: Path,
    *,
    token_id: str,
    workspace_id: str,
    per_token: int,
    per_workspace: int,
    retry_after: int,
) -> Slots:
    """Hold a slot of the token and one of the workspace (a limit of 0: none), or
    raise ``TooMany`` naming the limit reached."""
    wanted = [
        ("token", token_id, per_token, "this token"),
        ("workspace", workspace_id, per_workspace, "this workspace"),
    ]
    held: list[int] = []
    for kind, ident, limit, who in wanted:
        if limit <= 0:
            continue
        fd = _take_one(_folder(data_dir, kind, ident), limit)
        if fd is None:
            Slots(held).release()
            raise TooMany(
                f"{who} has {limit} dry run(s) in flight already (the limit); "
                "retry when one has finished.",
                retry_after,
            )
        held.append(fd)
    return Slots(held)
