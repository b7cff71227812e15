"""The worker's view of the file system, in its own mount namespace (as root).

Before dropping to the sandbox uid, a small shell script (``MOUNT_SCRIPT``, run as
root inside the new namespaces) binds the code directories the uid cannot reach,
makes the run's scratch dir the worker's ``/tmp``, and mounts an empty tmpfs on
``PRIVATE_DIRS``. A network namespace does not hide unix sockets that live in the
file system: a local PostgreSQL, MySQL or Redis socket in ``/run`` or ``/tmp``
answered the worker before. What the worker writes in those places goes with the
run (the tmpfs with the namespace, ``/tmp`` with the scratch dir).
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
WORKER_TMP = "/tmp"  # where the worker sees its scratch dir
PRIVATE_DIRS = ("/run", "/var/run", "/dev/shm", "/var/tmp")

# $0 is mount(8); then the (source, target) pairs of code binds, "--", the scratch
# dir, and the command to exec with an empty environment (sh adds PWD). The code
# binds come first and the tmpfs mounts last: until then every source is visible.
MOUNT_SCRIPT = (
    'while [ "$1" != -- ]; do "$0" --bind "$1" "$2" || exit 125; shift 2; done; '
    f'shift; "$0" --rbind "$1" {WORKER_TMP} || exit 125; shift; '
    f"for d in {' '.join(PRIVATE_DIRS)}; do "
    '[ -L "$d" ] || [ ! -d "$d" ] || "$0" -t tmpfs -o '
    'nosuid,nodev,size=16m,mode=1777 ade-sandbox "$d" || exit 125; done; '
    f'cd {WORKER_TMP} || exit 125; exec /usr/bin/env -i "$@"'
)


def worker_sys_path() -> list[str]:
    """The import path handed to the worker: the project, then site-packages.

    The worker's interpreter computes its own stdlib path; ours may not even be
    readable by the dropped uid, so it is left out.
    """
    stdlib = {
        os.path.realpath(p)
        for key in ("stdlib", "platstdlib")
        if (p := sysconfig.get_paths().get(key))
    }

    def is_stdlib(real: str) -> bool:
        return any(
            real == s or (real.startswith(s + os.sep) and "site-packages" not in real)
            for s in stdlib
        )

    paths = [PROJECT_ROOT]
    for entry in sys.path:
        if not entry or not os.path.isdir(entry) or is_stdlib(os.path.realpath(entry)):
            continue
        if entry not in paths:
            paths.append(entry)
    return paths


def readable_by_others(path: str) -> bool:
    """Can a uid with no groups list and read ``path`` (every ancestor o+x)?"""
    real = os.path.realpath(path)
    try:
        if os.stat(real).st_mode & 0o005 != 0o005:
            return False
        parent = os.path.dirname(real)
        while True:
            if not os.stat(parent).st_mode & 0o001:
                return False
            if parent == os.sep:
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def hidden_from_worker(path: str) -> bool:
    """Is ``path`` below a directory the worker gets a private one of?"""
    real = os.path.realpath(path)
    return any(
        real == d or real.startswith(d + os.sep) for d in (WORKER_TMP, *PRIVATE_DIRS)
    )


def worker_path(path: Path | str, scratch: Path) -> str:
    """Where the worker sees ``path``, a path inside its ``scratch`` dir."""
    rel = os.path.relpath(path, scratch)
    if rel == os.curdir:
        return WORKER_TMP
    if rel.startswith(os.pardir):
        raise ValueError(f"{path} is not inside {scratch}")
    return f"{WORKER_TMP}/{rel}"


def code_mounts(
    paths: list[str], scratch: Path
) -> tuple[list[str], list[tuple[str, str]]]:
    """Map import paths the dropped uid cannot reach (a checkout or venv under a 0700
    directory, or under a directory the worker gets a private one of) to bind
    mounts below ``scratch``.

    Returns the import path as the worker sees it and the ``(source, target)``
    pairs; the mounts exist only in the worker's mount namespace.
    """
    mapped, binds = [], []
    for path in paths:
        if readable_by_others(path) and not hidden_from_worker(path):
            mapped.append(path)
            continue
        target = scratch / f"code{len(binds)}"
        target.mkdir(mode=0o755)
        binds.append((os.path.realpath(path), str(target)))
        mapped.append(worker_path(target, scratch))
    return mapped, binds
