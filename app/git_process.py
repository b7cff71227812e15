"""Running one git server process for one request, and always reaping it."""

from __future__ import annotations

import logging
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


def advertise(cmd: list[str], env: dict, path: Path) -> bytes | None:
    """git's ref advertisement (``--advertise-refs``); None when git failed."""
    proc = subprocess.run(cmd, env=env, cwd=path, capture_output=True, check=False)
    if proc.returncode != 0:
        log.error("%s failed: %s", cmd[-3:-1], proc.stderr[-2000:])
        return None
    return proc.stdout


def start(
    service: str,
    cmd: list[str],
    env: dict,
    path: Path,
    body: IO[bytes],
    after: Callable[[], None] | None = None,
):
    """Start ``cmd`` on ``body``; its stdout becomes the response body. ``after``
    runs once git exited successfully (best effort: logged, never raised)."""
    stderr = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(
            cmd, stdin=body, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=path
        )
    except BaseException:
        stderr.close()
        raise
    finally:
        body.close()  # the child holds its own descriptor
    return GitOutput(service, proc, stderr, after)


class GitOutput:
    """A WSGI body that yields git's stdout as it comes. The server calls
    ``close`` when the response ends, is abandoned by the client, or is never
    iterated at all: git is reaped (killed if still running) in every case."""

    def __init__(
        self,
        service: str,
        proc: subprocess.Popen,
        stderr: IO[bytes],
        after: Callable[[], None] | None = None,
    ):
        self.service, self.proc, self.stderr = service, proc, stderr
        self.after = after
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.proc.stdout.read1(CHUNK):
            yield chunk
        self.finished = True

    def close(self) -> None:
        proc = self.proc
        try:
            # After EOF git is exiting; before it, nobody will read the rest.
            proc.wait(timeout=30 if self.finished else 0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        if proc.returncode:
            self.stderr.seek(0)
            log.warning(
                "%s exited %s: %s",
                self.service,
                proc.returncode,
                self.stderr.read(4000).decode(errors="replace"),
            )
        self.stderr.close()
        if proc.returncode == 0 and self.after is not None:
            try:
                self.after()
            except Exception:  # noqa: BLE001 - the push is done; only log
                log.exception("%s: follow-up failed", self.service)
