"""After a run: every process of its uid killed, every file it left removed."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import time


def _real_uid(status: bytes) -> int | None:
    for line in status.splitlines():
        if line.startswith(b"Uid:"):
            return int(line.split()[1])
    return None


def kill_uid(uid: int, settle: float = 0.0) -> int:
    """SIGKILL every process whose real uid is ``uid``; return how many were hit.

    Repeats until none is left, since a forking process may add more while we scan,
    then waits up to ``settle`` seconds for the zombies to be reaped: they still count
    against ``RLIMIT_NPROC`` of the next run that leases this uid. Reads
    ``/proc/<pid>/status`` (the directory's owner changes with 'dumpable').
    """
    total = 0
    give_up = time.monotonic() + settle
    while True:
        hit = zombies = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/status", "rb") as fh:
                    status = fh.read()
            except OSError:
                continue
            if _real_uid(status) != uid:
                continue
            if b"State:\tZ" in status:
                zombies += 1
                continue
            try:
                os.kill(int(name), signal.SIGKILL)
                hit += 1
            except OSError:
                pass
        total += hit
        if not hit and (not zombies or time.monotonic() > give_up):
            return total
        time.sleep(0.005)


def remove_files_of(uid: int, roots: tuple[str, ...]) -> int:
    """Delete what ``uid`` left in the world-writable ``roots`` (``/tmp`` ...).

    RLIMIT_FSIZE caps one file, not how many; without this a config could fill the
    disk for good, one file per run. Only entries the uid could have created are
    looked at: its own, and the inside of world-writable directories. Links are
    removed, never followed. Call it once every process of ``uid`` is dead.
    """
    removed = 0
    pending = [r for r in roots if os.path.isdir(r) and not os.path.islink(r)]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            is_dir = stat.S_ISDIR(info.st_mode)
            if info.st_uid == uid:
                try:
                    if is_dir:
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
                    removed += 1
                except OSError:
                    pass
            elif is_dir and info.st_mode & 0o002:
                pending.append(entry.path)
    return removed
