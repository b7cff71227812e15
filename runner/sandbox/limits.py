"""Resource limits and isolation settings of one sandboxed run.

``Limits`` is what a run may consume; ``Isolation`` is how the worker is separated from
the service (interpreter, uids, scratch root). Both are plain frozen dataclasses so the
app can build them from its settings and pass them down.
"""

from __future__ import annotations

import math
import os
import resource
import sys
from dataclasses import asdict, dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """Hard limits of one run; exceeding any ends the run with a one-line error."""

    cpu_seconds: int = 60
    wall_seconds: float = 120
    memory_bytes: int = 2 * GiB  # RLIMIT_AS: numpy + scipy need a few hundred MB
    file_bytes: int = 256 * MiB  # RLIMIT_FSIZE: the largest file the worker may write
    open_files: int = 256
    processes: int = 64  # RLIMIT_NPROC: counts threads too, per uid
    log_bytes: int = 64 * 1024  # stdout/stderr kept for SandboxResult.logs
    output_bytes: int = 64 * MiB  # stdout+stderr printed before the run is stopped
    # Service memory the report, every message but progress and the kept logs may
    # take, each line counted as a bound of its parsed size (channel.py).
    report_bytes: int = 64 * MiB

    def to_dict(self) -> dict:
        """Plain form, passed to the worker on its command line."""
        return asdict(self)


@dataclass(frozen=True)
class Isolation:
    """How the worker is separated from the service.

    As root the worker runs as one uid taken from ``uid_first ..
    uid_first + uid_count - 1`` (a lease held for the run, so ``RLIMIT_NPROC`` and the
    final sweep of leftover processes are per worker) inside a new network namespace.
    The default range is far from real users and from the usual subuid ranges; the uids
    need no passwd entry.
    """

    # The interpreter itself, not a venv's symlink to it: the venv may sit where the
    # dropped uid cannot reach (its site-packages are passed explicitly anyway).
    python: str = os.path.realpath(sys.executable)
    uid_first: int = 2_000_000_000
    uid_count: int = 64
    scratch_root: str | None = None  # None: the system temp dir (must be +x for all)
    unshare: str = "/usr/bin/unshare"
    setpriv: str = "/usr/bin/setpriv"
    mount: str = "/bin/mount"  # binds an unreadable checkout/venv for the worker
    shell: str = "/bin/sh"
    require_isolation: bool = False  # True: refuse to run with limits only
    # World-writable places a worker could leave files in; emptied of the worker
    # uid's files after every run (with a mount namespace it gets private ones).
    sweep_dirs: tuple[str, ...] = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def apply_limits(limits: dict, cpu_used: float = 0.0) -> None:
    """Set the worker's own rlimits (called in the worker, before any config import).

    Soft CPU limit sends SIGXCPU, the hard one a second later SIGKILL, so a script that
    ignores SIGXCPU still dies. ``cpu_used``: CPU seconds the process has already
    spent (a warm worker's imports), added to the run's allowance since RLIMIT_CPU
    counts the whole process.
    """
    cpu = int(limits["cpu_seconds"]) + math.ceil(cpu_used)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)
