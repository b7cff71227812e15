"""Warm sandbox workers (issue 13): a worker runs one job and is destroyed, the pool
refills (after a run, after a kill, after its idle lifetime), a config that
sabotages its worker changes nothing for the next run, and size 0 is today's cold
start. The hostile bodies are the hardening suite's repros."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runner.sandbox import Isolation, Limits, run_sandboxed
from runner.sandbox.pool import SandboxPool, configure_pool, pool_for, shutdown_pools
from tests.sandbox_helpers import (
    POOL_SIZE,
    Window,
    leftovers,
    make_config,
    needs_root,
)
from tests.test_runner_sandbox_hardening import FIFO_OUTPUT, FLOOD, LINES
from tests.waits import wait_for

pytestmark = [pytest.mark.timeout(120), needs_root("the warm pool (isolated only)")]

SMOKE = "runner.sandbox.smoke:run"
MiB = 2**20
LIMITS = Limits(cpu_seconds=4, wall_seconds=20, memory_bytes=1024 * MiB)
# Reports whether this process ran a config before (a mark left in builtins,
# which every module shares), and its uid.
MARK = """
import builtins, os
seen = getattr(builtins, "_ade_ran_here", False)
builtins._ade_ran_here = True
return [seen, os.getuid()]
"""
# Light warm workers for most tests: the smoke entry needs no engine.
LIGHT = ("runner.sandbox.smoke",)


@pytest.fixture
def pool():
    pools = []

    def make(size=1, idle=600.0, preload=LIGHT):
        p = SandboxPool(Isolation(), size, idle, preload).start()
        pools.append(p)
        wait_for(lambda: p.ready_count() == size, timeout=60, what="warm workers")
        return p

    yield make
    for p in pools:
        uids = [w.uid for w in p._ready]
        p.stop()
        for uid in uids:  # shutting down leaves no process behind
            assert leftovers(uid)["processes"] == []


def run(tmp_path: Path, body: str, pool, limits: Limits = LIMITS, output=None):
    config = make_config(tmp_path, body)
    source = tmp_path / "input.xlsx"
    source.write_bytes(b"not really a workbook")
    with Window() as window:
        result = run_sandboxed(
            config, source, output, limits=limits, entry=SMOKE, pool=pool
        )
    assert result.uid is not None
    assert leftovers(result.uid, window) == {"processes": [], "ipc": [], "files": []}
    return result


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_worker_that_ran_config_code_never_gets_a_second_run(tmp_path, pool):
    p = pool(size=2)
    pids = []
    for i in range(4):
        wait_for(lambda: p.ready_count() >= 1, timeout=60, what="a warm worker")
        result = run(tmp_path / str(i), MARK, p)
        assert result.ok, result.error
        assert result.pooled
        seen, uid = result.report["scores"]["x.detect_x"]
        assert seen is False  # a fresh process, never one that ran a config
        assert uid == result.uid
        assert gone(result.worker_pid)
        assert result.worker_pid not in p.worker_pids()
        pids.append(result.worker_pid)
    assert len(set(pids)) == len(pids)


# A run that needs scipy's solver (a 6x6 problem where every field wants every
# column), and one that only says whether scipy was imported before it ran.
USES_SOLVER = """
import runner.mapping as m
return m.assign([[2.0] * 6 for _ in range(6)], [[1] * 6] * 6, list(range(6)), 1.0)
"""
HAS_SCIPY = """
import sys
return "scipy.optimize" in sys.modules
"""


def test_replacements_preload_the_solver_while_runs_use_it(tmp_path, pool):
    p = pool(size=1)
    assert p.next_preload() == LIGHT  # nothing ran yet: the lean start
    first = run(tmp_path / "a", USES_SOLVER, p)
    assert first.ok, first.error
    assert first.report["scores"]["x.detect_x"] == list(range(6))
    assert first.solver_used
    assert p.next_preload() == (*LIGHT, "scipy.optimize")
    wait_for(lambda: p.ready_count() == 1, timeout=60, what="a replacement")
    second = run(tmp_path / "b", HAS_SCIPY, p)  # on the replacement
    assert second.report["scores"]["x.detect_x"] is True
    assert not second.solver_used  # imported, not used
    assert p.next_preload() == LIGHT
    wait_for(lambda: p.ready_count() == 1, timeout=60, what="a replacement")
    third = run(tmp_path / "c", HAS_SCIPY, p)
    assert third.report["scores"]["x.detect_x"] is False


def test_the_pool_refills_after_a_worker_is_killed(pool):
    p = pool(size=2)
    victim, other = p.worker_pids()
    os.killpg(victim, signal.SIGKILL)
    wait_for(
        lambda: p.ready_count() == 2 and victim not in p.worker_pids(),
        timeout=60,
        what="a replacement",
    )
    assert other in p.worker_pids()


def test_idle_workers_are_replaced(pool):
    p = pool(size=1, idle=1.0)
    first = p.worker_pids()[0]
    wait_for(
        lambda: p.worker_pids() and p.worker_pids()[0] != first,
        timeout=60,
        what="an idle worker replaced",
    )
    wait_for(lambda: gone(first), timeout=10, what="the idle worker gone")


SLEEP = """
import time
time.sleep(60)
"""
IPC = """
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget(0x0ADEF00D, 1 << 20, 0o1000 | 0o666)
os.fork() or time.sleep(60)
"""
SABOTAGE = {
    "fifo-output": (FIFO_OUTPUT, LIMITS, "the output is not a regular file"),
    "message-flood": (
        FLOOD.format(kind=textwrap.dedent(LINES)),
        Limits(cpu_seconds=20, wall_seconds=30, report_bytes=4 * MiB),
        "report and messages larger than 4 MiB",
    ),
    # Ends fine, leaving a shared memory segment and a sleeping child behind.
    "ipc-and-fork": (IPC, LIMITS, None),
    "sleep": (SLEEP, Limits(cpu_seconds=4, wall_seconds=2), "time limit of 2 s"),
}


@pytest.mark.parametrize("name", list(SABOTAGE))
def test_a_sabotaging_config_affects_no_later_run(tmp_path, pool, name):
    body, limits, error = SABOTAGE[name]
    p = pool(size=1)
    bad = run(tmp_path / "bad", body, p, limits, output=tmp_path / "bad.xlsx")
    assert bad.pooled
    if error is None:
        assert bad.ok, bad.error
    else:
        assert not bad.ok and bad.error.startswith(error), bad.error
    wait_for(lambda: p.ready_count() == 1, timeout=60, what="a replacement")
    check = """
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    import builtins
    return [libc.shmget(0x0ADEF00D, 0, 0), hasattr(builtins, "_ade_ran_here")]
    """
    later = run(tmp_path / "later", check, p, output=tmp_path / "later.xlsx")
    assert later.ok, later.error
    assert later.pooled and later.worker_pid != bad.worker_pid
    assert later.report["scores"]["x.detect_x"] == [-1, False]
    assert (tmp_path / "later.xlsx").read_bytes() == b"not really a workbook"


def test_the_cpu_limit_counts_from_the_hand_over(tmp_path, pool):
    """The engine's imports took CPU before the job: a 1 s limit still allows a
    run of about half a second, and still stops a busy loop."""
    p = pool(size=1, preload=("runner.engine",))
    busy = """
    import time
    end = time.process_time() + 0.4
    while time.process_time() < end:
        pass
    return 1
    """
    limits = Limits(cpu_seconds=1, wall_seconds=30)
    ok = run(tmp_path / "ok", busy, p, limits)
    assert ok.ok and ok.pooled, ok.error
    assert ok.cpu_ms < 1000  # the run's own CPU, not the imports'
    wait_for(lambda: p.ready_count() == 1, timeout=60, what="a replacement")
    spin = run(tmp_path / "spin", "while True:\n    pass\n", p, limits)
    assert spin.pooled
    assert spin.error == "CPU time limit of 1 s exceeded"


def test_pool_size_0_is_the_cold_start(tmp_path):
    try:
        assert configure_pool(0, 600) is None
        assert pool_for(Isolation()) is None
        result = run(tmp_path, MARK, None)
        assert result.ok and not result.pooled
    finally:
        shutdown_pools()
        if POOL_SIZE:  # the suite runs with a pool: give it back
            configure_pool(POOL_SIZE, 600)


def test_an_empty_pool_falls_back_to_a_cold_start(tmp_path):
    p = SandboxPool(Isolation(), 1, 600, LIGHT)  # never started: nothing ready
    result = run(tmp_path, MARK, p)
    assert result.ok and not result.pooled


FORK = """
import json, os, sys, time
from runner.sandbox.pool import configure_pool, pool_for
from runner.sandbox import Isolation
pool = configure_pool(1, 600)
while not pool.ready_count():
    time.sleep(0.05)
pid = os.fork()
if pid == 0:  # a gunicorn worker: its own pool, not the parent's
    own = pool_for(Isolation())
    os._exit(0 if own is not pool and not own.worker_pids() else 3)
_, status = os.waitpid(pid, 0)
alive = [p for p in pool.worker_pids() if os.path.exists(f"/proc/{p}")]
print(json.dumps({"child": os.waitstatus_to_exitcode(status), "alive": alive}))
"""


def test_a_forked_child_starts_its_own_pool(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", FORK],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["child"] == 0 and seen["alive"], seen
    # The parent's workers went with its exit (atexit), not before.
    wait_for(lambda: all(map(gone, seen["alive"])), timeout=10, what="pool gone")
