"""Process isolation: uid leases, the worker's command line, the final sweep.

As root the worker is started as
``unshare --net --pid --fork --mount-proc --kill-child -- setpriv --reuid=U --regid=U
--clear-groups --no-new-privs -- python -I -S -B -c ...``: a fresh network namespace
(only a down loopback: "network is unreachable"), a pid namespace with its own /proc
(no other process visible; everything it forked dies with it), an unprivileged uid so
that file permissions and ``RLIMIT_NPROC`` hold, and no way back to privileges.

Each concurrent worker leases its own uid, so ``RLIMIT_NPROC`` is per worker and every
process left with that uid after the run (belt and braces: without the pid namespace a
fork that called ``setsid`` leaves the process group) can be killed without touching
anyone else.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from runner.sandbox.limits import Isolation
from runner.sandbox.worker import BOOTSTRAP

PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


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


def code_mounts(
    paths: list[str], mount_root: Path
) -> tuple[list[str], list[tuple[str, str]]]:
    """Map import paths the dropped uid cannot reach (a checkout or venv under a 0700
    directory) to bind mounts below ``mount_root``, which the uid can traverse.

    Returns the import path as the worker sees it and the ``(source, target)``
    pairs; the mounts exist only in the worker's mount namespace.
    """
    mapped, binds = [], []
    for path in paths:
        if readable_by_others(path):
            mapped.append(path)
            continue
        target = mount_root / f"code{len(binds)}"
        target.mkdir(mode=0o755)
        binds.append((os.path.realpath(path), str(target)))
        mapped.append(str(target))
    return mapped, binds


# Run as root inside the new namespaces, before setpriv: give the worker its own
# small /run and /dev/shm (a network namespace does not hide the unix sockets that
# live there: a local PostgreSQL, MySQL or Redis socket answered the worker), bind
# the code directories, then exec the rest of the command line (with the empty
# environment: sh adds PWD).
PRIVATE_DIRS = ("/run", "/var/run", "/dev/shm")
_MOUNT_SCRIPT = (
    f"for d in {' '.join(PRIVATE_DIRS)}; do "
    '[ -L "$d" ] || [ ! -d "$d" ] || "$0" -t tmpfs -o '
    'nosuid,nodev,size=16m,mode=1777 ade-sandbox "$d" || exit 125; done; '
    'while [ "$1" != -- ]; do "$0" --bind "$1" "$2" || exit 125; shift 2; done; '
    'shift; exec /usr/bin/env -i "$@"'
)


class UidLease:
    """Exclusive use of one sandbox uid on this machine, across processes.

    The lock is an abstract unix socket named after the uid: the kernel frees it when
    the holder exits, however it exits, so a crashed service leaves no stale lock.
    """

    def __init__(self, isolation: Isolation) -> None:
        self.uid: int | None = None
        self._sock: socket.socket | None = None
        first, count = isolation.uid_first, isolation.uid_count
        start = random.randrange(count)
        for i in range(count):
            uid = first + (start + i) % count
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(f"\0ade-sandbox-uid-{uid}")
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
            self.uid, self._sock = uid, sock
            break

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


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


# A pid namespace with its own /proc: the worker sees no other process (no command
# lines of the service), and when it exits the kernel kills everything it forked. The
# worker is the namespace's init, so SIGXCPU (default action) is ignored and the hard
# CPU limit's SIGKILL ends it; unshare then reports a signal death as status 1.
PID_NAMESPACE = ["--pid", "--fork", "--mount-proc", "--kill-child"]


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


def worker_command(
    isolation: Isolation,
    uid: int | None,
    args: dict,
    code: str = BOOTSTRAP,
    pid_namespace: bool = True,
    binds: list[tuple[str, str]] = (),
) -> list[str]:
    """The argv that starts one worker; ``uid`` None means limits only. ``binds``
    (from ``code_mounts``) and the private ``PRIVATE_DIRS`` need the mount
    namespace that comes with the pid one."""
    python = [isolation.python, "-I", "-S", "-B", "-c", code, json.dumps(args)]
    if uid is None:
        return [*_die_with_parent(isolation), *python]
    drop = [isolation.setpriv, *drop_args(uid), "--", *python]
    if pid_namespace:
        pairs = [part for pair in binds for part in pair]
        drop = [isolation.shell, "-c", _MOUNT_SCRIPT, isolation.mount, *pairs, "--"]
        drop += [isolation.setpriv, *drop_args(uid), "--", *python]
    return [
        *_die_with_parent(isolation),
        isolation.unshare,
        "--net",
        *(PID_NAMESPACE if pid_namespace else []),
        "--",
        *drop,
    ]


def _die_with_parent(isolation: Isolation) -> list[str]:
    """A parent-death signal for the worker's first process: when the service
    process that waits for it dies (SIGKILL, OOM, a quick shutdown), the worker is
    killed too instead of running on, orphaned, until its own limits end it. With
    a pid namespace, unshare's ``--kill-child`` carries it to the whole namespace."""
    if not os.access(isolation.setpriv, os.X_OK):
        return []
    return [isolation.setpriv, "--pdeathsig", "KILL", "--"]


def drop_args(uid: int) -> list[str]:
    """setpriv's options: to ``uid`` for good, no groups, no setuid way back."""
    # --pdeathsig again: the kernel clears the parent-death signal when the uid
    # changes, and unshare's --kill-child (or ours) relies on it.
    return [
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--pdeathsig=KILL",
    ]


@functools.cache
def probe(isolation: Isolation) -> dict:
    """Find out once whether full isolation works here; see ``sandbox_capabilities``."""
    caps = {
        "mode": "limits-only",
        "uid_drop": False,
        "network_namespace": False,
        "pid_namespace": False,
        "process_sweep": False,
        "rlimits": ["cpu", "as", "fsize", "nofile", "core", "nproc"],
        "isolated_python": True,
        "python": isolation.python,
        "uids": None,
        "reason": None,
    }
    if os.geteuid() != 0:
        caps["reason"] = (
            "not running as root: no uid drop or network namespace; RLIMIT_NPROC "
            "counts all processes of the service user"
        )
        return caps
    for tool in (isolation.unshare, isolation.setpriv):
        if not os.access(tool, os.X_OK):
            caps["reason"] = f"{tool} not found (util-linux): limits only"
            return caps
    lease = UidLease(isolation)
    if lease.uid is None:
        caps["reason"] = "no free sandbox uid for the probe"
        return caps
    try:
        outcome = _probe_run(isolation, lease.uid, pid_namespace=True)
        if outcome is not None:
            caps["pid_namespace_error"] = outcome
            outcome = _probe_run(isolation, lease.uid, pid_namespace=False)
    finally:
        lease.release()
    if outcome is not None:
        caps["reason"] = outcome
        return caps
    first = isolation.uid_first
    caps.update(
        mode="isolated",
        uid_drop=True,
        network_namespace=True,
        pid_namespace="pid_namespace_error" not in caps,
        process_sweep=True,
        uids=f"{first}-{first + isolation.uid_count - 1}",
    )
    return caps


def _traversable(path: Path) -> bool:
    """Can any uid reach entries below ``path`` (every ancestor is o+x)?"""
    path = path.resolve()
    for part in (path, *path.parents):
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def scratch_parent(isolation: Isolation) -> str:
    """Where a run's scratch dir goes: ``scratch_root`` if set, else the system temp
    dir when the dropped uid can reach it, else ``/tmp`` (a private ``TMPDIR``
    such as ``/root/tmp`` would make every run fail to stage)."""
    if isolation.scratch_root:
        return isolation.scratch_root
    default = tempfile.gettempdir()
    if _traversable(Path(default)) or not _traversable(Path("/tmp")):
        return default
    return "/tmp"


def _probe_run(isolation: Isolation, uid: int, *, pid_namespace: bool) -> str | None:
    """Start a probe worker as ``uid``; None when uid, network (and pid namespace)
    are as expected, else the reason."""
    root = Path(tempfile.mkdtemp(prefix="ade-probe-", dir=scratch_parent(isolation)))
    try:
        os.chown(root, uid, uid)
        return _probe_in(isolation, uid, root, pid_namespace)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _probe_in(isolation: Isolation, uid: int, root: Path, pid_namespace: bool):
    paths, binds = worker_sys_path(), []
    if pid_namespace:
        paths, binds = code_mounts(paths, root)
    code = (
        f"import sys; sys.path[0:0] = {paths!r}\n"
        "import os, socket; s = socket.socket(); s.settimeout(1)\n"
        "try:\n    s.connect(('127.0.0.1', 9)); net = 'open'\n"
        "except OSError as e:\n    net = e.errno\n"
        "import runner.sandbox.worker\n"
        "procs = sum(p.isdigit() for p in os.listdir('/proc'))\n"
        "print(os.getuid(), net, procs)"
    )
    cmd = worker_command(isolation, uid, {}, code, pid_namespace, binds)
    try:
        out = subprocess.run(
            cmd, env={}, capture_output=True, timeout=30, cwd="/", text=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"isolated worker did not start: {exc}"
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 3 or words[0] != str(uid):
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return f"isolated worker failed: {last}"
    if words[1] != str(errno.ENETUNREACH):
        return f"network namespace not effective (connect: {words[1]})"
    if pid_namespace and words[2] != "1":
        return f"pid namespace not effective ({words[2]} processes visible)"
    return None
