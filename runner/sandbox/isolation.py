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
import signal
import socket
import subprocess
import sys
import sysconfig
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


def worker_command(
    isolation: Isolation,
    uid: int | None,
    args: dict,
    code: str = BOOTSTRAP,
    pid_namespace: bool = True,
) -> list[str]:
    """The argv that starts one worker; ``uid`` None means limits only."""
    python = [isolation.python, "-I", "-S", "-B", "-c", code, json.dumps(args)]
    if uid is None:
        return python
    return [
        isolation.unshare,
        "--net",
        *(PID_NAMESPACE if pid_namespace else []),
        "--",
        isolation.setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--",
        *python,
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


def _probe_run(isolation: Isolation, uid: int, *, pid_namespace: bool) -> str | None:
    """Start a probe worker as ``uid``; None when uid, network (and pid namespace)
    are as expected, else the reason."""
    code = (
        f"import sys; sys.path[0:0] = {worker_sys_path()!r}\n"
        "import os, socket; s = socket.socket(); s.settimeout(1)\n"
        "try:\n    s.connect(('127.0.0.1', 9)); net = 'open'\n"
        "except OSError as e:\n    net = e.errno\n"
        "import runner.sandbox.worker\n"
        "procs = sum(p.isdigit() for p in os.listdir('/proc'))\n"
        "print(os.getuid(), net, procs)"
    )
    cmd = worker_command(isolation, uid, {}, code, pid_namespace)
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
