"""Reading files the sandboxed worker could have written (its output, anything in its
scratch dir): hostile input, however the run ended.

Config code runs in the worker's own process, so it can swap the output for a
symlink to a file only the service may read, a hard link, a FIFO (an ``open`` for
reading then waits for a writer forever), a directory or a huge file. So: open
without following links and without blocking, check with ``fstat`` that it is a
regular file with one link, owned by the worker, of bounded size, and read it in
chunks, asking ``should_stop`` (deadline, cancel) before each one.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

CHUNK = 1024 * 1024
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def read_chunk(fd: int, size: int) -> bytes:
    """One read; a seam for tests that simulate a slow disk."""
    return os.read(fd, size)


def open_untrusted(path: Path, *, owner: int, max_bytes: int) -> tuple[int, int] | str:
    """``(fd, size)`` of ``path`` if it is a plain file of ``owner`` of at most
    ``max_bytes``, else the one-line reason it is refused."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except FileNotFoundError:
        return "the run wrote no output file"
    except OSError:  # ELOOP (a symlink), ENXIO (a socket), EACCES ...
        return "the output is not a regular file"
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        problem = "the output is not a regular file"
    elif info.st_uid != owner:
        problem = "the output file is not the worker's"
    elif info.st_size > max_bytes:
        problem = "file size limit exceeded"
    if problem is not None:
        os.close(fd)
        return problem
    return fd, info.st_size


def copy_out(
    src: Path,
    dest: Path,
    *,
    owner: int,
    max_bytes: int,
    should_stop: Callable[[], str | None] = lambda: None,
) -> str | None:
    """Copy the worker's file ``src`` to ``dest`` (written as ``.name.part``, then
    renamed); None on success, else the one-line reason nothing was copied.

    Reads at most the size ``fstat`` gave (plus one byte, to notice a file that
    still grows), and stops as soon as ``should_stop`` returns a reason.
    """
    opened = open_untrusted(src, owner=owner, max_bytes=max_bytes)
    if isinstance(opened, str):
        return opened
    fd, size = opened
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        with open(tmp, "wb") as out:
            problem = _pump(fd, out, size, max_bytes, should_stop)
    finally:
        os.close(fd)
    if problem is not None:
        tmp.unlink(missing_ok=True)
        return problem
    os.replace(tmp, dest)
    return None


def _pump(fd, out, size, max_bytes, should_stop) -> str | None:
    left = min(size, max_bytes) + 1
    while True:
        reason = should_stop()
        if reason is not None:
            return reason
        data = read_chunk(fd, min(CHUNK, left))
        if not data:
            return None
        left -= len(data)
        if left <= 0:
            return "the output file changed while it was copied"
        out.write(data)
