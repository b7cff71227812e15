"""Helpers for the hostile-config tests: configs with one column script, and what a
run's uid left behind on the host (processes, SysV IPC, POSIX mqueues, files)."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

IS_ROOT = os.geteuid() == 0
CI = os.environ.get("CI") == "true"
# The switch for running the suite with warm sandbox workers: ADE_SANDBOX_POOL_SIZE
# (default 0 here: today's cold start; the service's own default is 2). conftest
# configures the pool of the test process from it, and the test apps and the
# servers the tests start get the same size.
POOL_SIZE = int(os.environ.get("ADE_SANDBOX_POOL_SIZE") or 0)


def needs_root(layer: str):
    """Skip where the machine cannot provide ``layer`` (not root); under CI=true the
    machine is root and the test must run, so it is never skipped there."""
    return pytest.mark.skipif(
        not IS_ROOT and not CI, reason=f"{layer} needs root (the isolated sandbox)"
    )


def settle_pool(timeout: float = 60.0) -> None:
    """Wait until this process's warm pool (if the suite runs with one) has started
    its replacements: a test that watches the sandbox uids' processes must not see
    the pool's own new workers."""
    from runner.sandbox import Isolation
    from runner.sandbox.pool import pool_for

    pool = pool_for(Isolation())
    if pool is not None:
        from tests.waits import wait_for

        wait_for(pool.settled, timeout, what="the warm pool to settle")


def make_config(tmp_path: Path, body: str) -> Path:
    """A config whose only column runs ``body`` inside ``detect_x``."""
    config = tmp_path / "config"
    (config / "columns").mkdir(parents=True)
    code = "def detect_x(**_):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    (config / "columns" / "x.py").write_text(code)
    (config / "manifest.json").write_text("{}")
    return config


class Window:
    """The time a run took, on the clocks that process start times (boot time)
    and file and IPC change times (wall time) use. Other sessions on this machine
    run sandboxes with the same uids; the uid lease keeps them out of our window."""

    def __enter__(self) -> Window:
        self.boot = (time.clock_gettime(time.CLOCK_BOOTTIME),) * 2
        self.wall = (time.time() - 1, time.time() + 1)  # change times are in seconds
        return self

    def __exit__(self, *exc) -> None:
        self.boot = (self.boot[0], time.clock_gettime(time.CLOCK_BOOTTIME))
        self.wall = (self.wall[0], time.time() + 1)


EVER = Window()
EVER.boot, EVER.wall = (0.0, float("inf")), (0.0, float("inf"))


def uid_processes(uid: int | None, window: Window = EVER) -> list[int]:
    """Pids of live (not zombie) processes running as ``uid``, started in
    ``window``."""
    pids = []
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{name}/status").read_text()
            stat = Path(f"/proc/{name}/stat").read_text()
        except (OSError, NotADirectoryError):
            continue
        started = int(stat.rsplit(")", 1)[1].split()[19]) / tick
        if not window.boot[0] - 0.02 <= started <= window.boot[1]:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                if "\nState:\tZ" not in status:
                    pids.append(int(name))
    return pids


def sysv_ipc_of(uid: int, window: Window = EVER) -> list[str]:
    """The host's SysV shared memory, semaphores and message queues owned or
    created by ``uid`` (what ``ipcs`` lists) and changed in ``window``."""
    found = []
    for kind in ("shm", "sem", "msg"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        header = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(header, line.split(), strict=False))
            if str(uid) not in (row.get("uid"), row.get("cuid")):
                continue
            if window.wall[0] <= int(row["ctime"]) <= window.wall[1]:
                ident = row.get("shmid") or row.get("semid") or row.get("msqid")
                found.append(f"{kind}:{ident}")
    return found


def host_mqueues() -> list[str]:
    """Names of the POSIX message queues of the host's IPC namespace.

    ``/dev/mqueue`` is often not mounted: mount the mqueue file system in a
    throw-away mount namespace (same IPC namespace as ours) and list it there.
    """
    script = 'd=$(mktemp -d) && mount -t mqueue ade-test "$d" && ls -A "$d"'
    out = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return out.stdout.split()


def files_of(
    uid: int, window: Window = EVER, roots=("/tmp", "/var/tmp", "/dev/shm")
) -> list[str]:
    """Files and directories owned by ``uid`` below ``roots`` and changed in
    ``window`` (never following links)."""
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in (*dirnames, *filenames):
                path = os.path.join(dirpath, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if info.st_uid == uid and window.wall[0] <= info.st_ctime:
                    if info.st_ctime <= window.wall[1]:
                        found.append(path)
    return found


def leftovers(uid: int, window: Window = EVER) -> dict[str, list]:
    """What a run as ``uid`` during ``window`` left on the host: empty lists after
    a clean run."""
    return {
        "processes": uid_processes(uid, window),
        "ipc": sysv_ipc_of(uid, window),
        "files": files_of(uid, window),
    }
