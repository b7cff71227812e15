"""Process isolation: uid leases, the worker's command line, the probe.

As root the worker is started as
``unshare --net --ipc --pid --fork --mount-proc --kill-child -- sh -c MOUNT_SCRIPT
... -- setpriv --reuid=U --regid=U --clear-groups --no-new-privs -- python -I -S -B
-c ...``: a fresh network namespace (only a down loopback: "network is
unreachable"), its own IPC namespace (SysV shared memory, semaphores, message queues
and POSIX mqueues it creates die with it and are seen by no other run), a pid
namespace with its own /proc (no other process visible; everything it forked dies
with it), a mount namespace with a private ``/tmp``, ``/run``, ``/dev/shm`` and
``/var/tmp`` (``runner.sandbox.mounts``), an unprivileged uid so that file
permissions and ``RLIMIT_NPROC`` hold, and no way back to privileges.

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
import socket
import stat
import subprocess
import tempfile
from collections import deque
from collections.abc import Collection
from pathlib import Path

from runner.sandbox.limits import Isolation
from runner.sandbox.mounts import MOUNT_SCRIPT, code_mounts, worker_sys_path
from runner.sandbox.worker import BOOTSTRAP

RECENTLY_RELEASED: deque[int] = deque(maxlen=16)


class UidLease:
    """Exclusive use of one sandbox uid on this machine, across processes.

    The lock is an abstract unix socket named after the uid: the kernel frees it when
    the holder exits, however it exits, so a crashed service leaves no stale lock.
    ``avoid``: uids to take only when no other one is free; by default the ones this
    process released last (``RECENTLY_RELEASED``), so that a warm worker started in
    the background does not take the uid of a run that just ended while its caller
    still looks at what that uid left.
    """

    def __init__(
        self, isolation: Isolation, avoid: Collection[int] | None = None
    ) -> None:
        if avoid is None:
            avoid = set(RECENTLY_RELEASED)
        self.uid: int | None = None
        self._sock: socket.socket | None = None
        first, count = isolation.uid_first, isolation.uid_count
        start = random.randrange(count)
        order = [first + (start + i) % count for i in range(count)]
        order.sort(key=lambda uid: uid in avoid)
        for uid in order:
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

    def forget(self) -> None:
        """Close this process's copy of the lock without releasing the uid (a
        forked child's copy of its parent's lease)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def release(self) -> None:
        if self._sock is not None:
            RECENTLY_RELEASED.append(self.uid)
            self._sock.close()
            self._sock = None


# A pid namespace with its own /proc: the worker sees no other process (no command
# lines of the service), and when it exits the kernel kills everything it forked. The
# worker is the namespace's init, so SIGXCPU (default action) is ignored and the hard
# CPU limit's SIGKILL ends it; unshare then reports a signal death as status 1.
PID_NAMESPACE = ["--pid", "--fork", "--mount-proc", "--kill-child"]


def worker_command(
    isolation: Isolation,
    uid: int | None,
    args: dict,
    code: str = BOOTSTRAP,
    pid_namespace: bool = True,
    binds: list[tuple[str, str]] = (),
    scratch: Path | None = None,
) -> list[str]:
    """The argv that starts one worker; ``uid`` None means limits only.

    With ``pid_namespace`` (and the mount namespace that comes with it) the worker
    sees ``scratch`` as its ``/tmp`` (paths in ``args`` must say so, see
    ``mounts.worker_path``), gets the ``binds`` (from ``code_mounts``) and empty
    private ``PRIVATE_DIRS``."""
    python = [isolation.python, "-I", "-S", "-B", "-c", code, json.dumps(args)]
    if uid is None:
        return [*_die_with_parent(isolation), *python]
    drop = [isolation.setpriv, *drop_args(uid), "--", *python]
    if pid_namespace:
        if scratch is None:
            raise ValueError("a mount namespace needs the scratch dir")
        pairs = [part for pair in binds for part in pair]
        mount = [isolation.shell, "-c", MOUNT_SCRIPT, isolation.mount, *pairs, "--"]
        drop = [*mount, str(scratch), *drop]
    return [
        *_die_with_parent(isolation),
        isolation.unshare,
        "--net",
        "--ipc",
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
        "ipc_namespace": False,
        "pid_namespace": False,
        "private_tmp": False,
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
        ipc_namespace=True,
        pid_namespace="pid_namespace_error" not in caps,
        private_tmp="pid_namespace_error" not in caps,
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
    (root / "probe-marker").touch()
    code = (
        f"import sys; sys.path[0:0] = {paths!r}\n"
        "import json, os, socket; s = socket.socket(); s.settimeout(1)\n"
        "try:\n    s.connect(('127.0.0.1', 9)); net = 'open'\n"
        "except OSError as e:\n    net = e.errno\n"
        "import runner.sandbox.worker\n"
        "print(json.dumps({'uid': os.getuid(), 'net': net,"
        " 'procs': sum(p.isdigit() for p in os.listdir('/proc')),"
        " 'ipc': os.readlink('/proc/self/ns/ipc'),"
        " 'tmp': os.path.exists('/tmp/probe-marker')}))"
    )
    cmd = worker_command(isolation, uid, {}, code, pid_namespace, binds, root)
    try:
        out = subprocess.run(
            cmd, env={}, capture_output=True, timeout=30, cwd="/", text=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"isolated worker did not start: {exc}"
    try:
        seen = json.loads(out.stdout)
    except ValueError:
        seen = {}
    if out.returncode != 0 or not isinstance(seen, dict) or seen.get("uid") != uid:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return f"isolated worker failed: {last}"
    return _probe_verdict(seen, pid_namespace)


def _probe_verdict(seen: dict, pid_namespace: bool) -> str | None:
    if seen["net"] != errno.ENETUNREACH:
        return f"network namespace not effective (connect: {seen['net']})"
    if seen["ipc"] == os.readlink("/proc/self/ns/ipc"):
        return "IPC namespace not effective"
    if pid_namespace and seen["procs"] != 1:
        return f"pid namespace not effective ({seen['procs']} processes visible)"
    if pid_namespace and not seen["tmp"]:
        return "private /tmp not effective"
    return None


def start_worker(
    isolation: Isolation,
    uid: int | None,
    root: Path,
    args: dict,
    mounted: bool,
    *,
    stdin: int = subprocess.DEVNULL,
) -> tuple[subprocess.Popen, int, list[str]]:
    """Start a worker in its own session with ``args`` (plus ``sys_path`` and the
    message pipe's ``fd``): the process, the read end of its message pipe and our
    own import path. ``mounted``: in its own mount namespace, where it sees
    ``root`` as ``/tmp``. Raises ``OSError`` when it cannot start."""
    ours = worker_sys_path()
    sys_path, binds = code_mounts(ours, root) if mounted else (ours, [])
    msg_r, msg_w = os.pipe()
    args = {**args, "sys_path": sys_path, "fd": msg_w}
    try:
        command = worker_command(isolation, uid, args, BOOTSTRAP, mounted, binds, root)
        proc = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(msg_w,),
            env={},
            cwd=root,
            start_new_session=True,
        )
    except OSError:
        os.close(msg_r)
        raise
    finally:
        os.close(msg_w)
    return proc, msg_r, ours
