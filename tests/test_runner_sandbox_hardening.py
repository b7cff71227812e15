"""Hostile configs against the service side of the sandbox (issue 12): an output that
is a FIFO, a flood on the message pipe, IPC objects and the host's /tmp. Each run
must end failed with the error of what stopped it, and leave no process, IPC object
or file of its uid behind. A run that outlives its limits hangs the test into
pytest's timeout: how soon after its deadline a run ends is not asserted (a loaded
machine decides that)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from runner.sandbox import Limits, run_sandboxed, untrusted
from runner.sandbox.channel import Budget, MessageChannel, parsed_size_bound
from runner.sandbox.untrusted import copy_out
from tests.sandbox_helpers import (
    Window,
    host_mqueues,
    leftovers,
    make_config,
    needs_root,
)

SMOKE = "runner.sandbox.smoke:run"
MiB = 2**20
# A generous wall limit: these runs must fail on what they test, not lose a race
# with the clock on a loaded machine (the deadline test sets its own 3 s).
LIMITS = Limits(cpu_seconds=4, wall_seconds=20, memory_bytes=512 * MiB)
pytestmark = pytest.mark.timeout(60)

# The smoke entry writes its output with Path.write_bytes; config code runs in the
# same process and swaps it for a FIFO, as run.py can do to runner.write.
FIFO_OUTPUT = """
import os, pathlib
pathlib.Path.write_bytes = lambda self, data: os.mkfifo(self)
return 1
"""


def run(tmp_path: Path, body: str, limits: Limits = LIMITS, output=None):
    """Run ``body`` in the sandbox; check it left nothing."""
    config = make_config(tmp_path, body)
    source = tmp_path / "input.xlsx"
    source.write_bytes(b"not really a workbook")
    with Window() as window:
        result = run_sandboxed(config, source, output, limits=limits, entry=SMOKE)
    if result.uid is not None:
        left = leftovers(result.uid, window)
        assert left == {"processes": [], "ipc": [], "files": []}
    return result


def test_a_fifo_output_fails_the_run_instead_of_blocking_it(tmp_path):
    dest = tmp_path / "out" / "output.xlsx"
    result = run(tmp_path, FIFO_OUTPUT, output=dest)
    assert not result.ok
    assert result.error == "the output is not a regular file"
    assert not dest.exists()


def test_copy_out_refuses_what_is_not_the_workers_plain_file(tmp_path):
    dest = tmp_path / "dest.xlsx"
    me = os.geteuid()

    def copy(src, owner=me, max_bytes=MiB):
        return copy_out(src, dest, owner=owner, max_bytes=max_bytes)

    secret = tmp_path / "secret"
    secret.write_text("top secret")
    link = tmp_path / "link.xlsx"
    link.symlink_to(secret)
    hard = tmp_path / "hard.xlsx"
    os.link(secret, hard)
    fifo = tmp_path / "fifo.xlsx"
    os.mkfifo(fifo)
    assert copy(tmp_path / "missing.xlsx") == "the run wrote no output file"
    assert copy(link) == "the output is not a regular file"
    assert copy(hard) == "the output is not a regular file"
    assert copy(fifo) == "the output is not a regular file"
    assert copy(tmp_path) == "the output is not a regular file"
    assert copy(Path("/dev/null")) == "the output is not a regular file"
    plain = tmp_path / "plain.xlsx"
    plain.write_bytes(b"x" * 1000)
    assert copy(plain, owner=me + 1) == "the output file is not the worker's"
    assert copy(plain, max_bytes=999) == "file size limit exceeded"
    assert not dest.exists()
    assert copy(plain) is None
    assert dest.read_bytes() == b"x" * 1000


def slow_reads(monkeypatch) -> threading.Event:
    """Make every read of the output take 0.2 s (a slow or stuck disk); the event is
    set once the copy-out has begun."""
    began = threading.Event()
    real = untrusted.read_chunk

    def slow(fd: int, size: int) -> bytes:
        began.set()
        time.sleep(0.2)
        return real(fd, min(size, 16))

    monkeypatch.setattr(untrusted, "read_chunk", slow)
    return began


def test_copy_out_stops_at_the_deadline(tmp_path, monkeypatch):
    slow_reads(monkeypatch)
    limits = dataclasses.replace(LIMITS, wall_seconds=3)
    body = "return 1\n"
    config = make_config(tmp_path, body)
    source = tmp_path / "input.xlsx"
    # 6,250 slow reads, over 20 minutes: a copy-out that ignored the deadline hangs
    # the test into its 60 s timeout; one that stops there ends on the wall limit.
    source.write_bytes(b"y" * 100_000)
    result = run_sandboxed(
        config, source, tmp_path / "out.xlsx", limits=limits, entry=SMOKE
    )
    assert not result.ok
    assert result.error == "time limit of 3 s exceeded"
    assert not (tmp_path / "out.xlsx").exists()


def test_cancel_ends_a_run_stuck_in_its_copy_out(tmp_path, monkeypatch):
    began = slow_reads(monkeypatch)
    cancel = threading.Event()
    config = make_config(tmp_path, "return 1\n")
    source = tmp_path / "input.xlsx"
    source.write_bytes(b"y" * 100_000)
    limits = dataclasses.replace(LIMITS, wall_seconds=600)
    outcome = {}

    def go():
        outcome["result"] = run_sandboxed(
            config, source, tmp_path / "out.xlsx", limits=limits, entry=SMOKE,
            cancel=cancel,
        )  # fmt: skip

    thread = threading.Thread(target=go)
    thread.start()
    assert began.wait(30), "the copy-out never began"
    cancel.set()
    thread.join(10)  # a hang catcher; the run is 600 s long otherwise
    assert not thread.is_alive(), "cancel did not end the copy-out"
    assert outcome["result"].error == "cancelled"


FLOOD = """
import json, os, sys
fd = json.loads(sys.argv[1])["fd"]  # the message pipe, the worker's own
{kind}
"""
LINES = """
line = b'{"x": "' + b"a" * 1000 + b'"}\\n'
for _ in range(128 * 1024):  # 128 MiB of JSON lines, each kept until now
    os.write(fd, line)
"""
STRUCTURE = """
# One 3.9 MiB line that parses into 1.3 million dicts (~100 MB in Python).
os.write(fd, b'{"report": [' + b"{}," * 1_300_000 + b'{}]}\\n')
"""
MEASURE = """
import json, sys
from pathlib import Path
from runner.sandbox import Limits, run_sandboxed, sandbox_capabilities

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

sandbox_capabilities()
before = status("VmRSS")
result = run_sandboxed(
    Path(sys.argv[1]), Path(sys.argv[2]), None, entry="runner.sandbox.smoke:run",
    limits=Limits(cpu_seconds=20, wall_seconds=30, report_bytes=4 * 2**20),
)
growth = status("VmHWM") - before
print(json.dumps({"error": result.error, "growth": growth, "uid": result.uid,
                  "seconds": result.elapsed_ms / 1000}))
"""


@pytest.mark.parametrize("kind", [LINES, STRUCTURE], ids=["lines", "structure"])
def test_a_message_flood_is_refused_past_the_cap_with_bounded_memory(tmp_path, kind):
    config = make_config(tmp_path, FLOOD.format(kind=textwrap.dedent(kind)))
    source = tmp_path / "input.xlsx"
    source.write_bytes(b"x")
    with Window() as window:
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(config), str(source)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[1],
        )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    if seen["uid"] is not None:
        left = leftovers(seen["uid"], window)
        assert left == {"processes": [], "ipc": [], "files": []}
    assert seen["error"] == "report and messages larger than 4 MiB"
    assert seen["seconds"] < 30 + 2  # its wall limit, +2 s: a hang catcher
    # Peak RSS of the supervising process: the cap, buffers and the interpreter's
    # own noise stay far below this; keeping the flood took hundreds of MB.
    assert seen["growth"] < 40 * MiB, seen


@needs_root("an IPC namespace")
def test_ipc_objects_vanish_with_the_run_and_are_not_shared(tmp_path):
    key = 0x0ADE0000 + os.getpid() % 0xFFFF
    queue = f"/ade-test-{os.getpid()}"
    body = f"""
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    create = 0o1000 | 0o666  # IPC_CREAT, shared with everyone
    shm = libc.shmget({key}, 1 << 20, create)
    sem = libc.semget({key}, 1, create)
    msg = libc.msgget({key}, create)
    mq = libc.mq_open({queue.encode()!r}, os.O_CREAT | os.O_RDWR,
                      ctypes.c_uint(0o666), None)
    return [shm, sem, msg, mq]
    """
    result = run(tmp_path / "a", body)
    assert result.ok, result.error
    assert min(result.report["scores"]["x.detect_x"]) >= 0  # all four were created
    assert queue[1:] not in host_mqueues()
    keys = [
        line.split()[0] for line in Path("/proc/sysvipc/shm").read_text().splitlines()
    ]
    assert str(key) not in keys
    # A later run does not find them either (0666 objects were shared before).
    later = run(
        tmp_path / "b",
        f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return [libc.shmget({key}, 0, 0), ctypes.get_errno()]
        """,
    )
    assert later.ok, later.error
    assert later.report["scores"]["x.detect_x"] == [-1, 2]  # ENOENT


@needs_root("a private /tmp (mount namespace)")
def test_the_worker_tmp_is_its_own_and_goes_with_the_run(tmp_path):
    tag = f"ade-test-{os.getpid()}-{time.monotonic_ns()}"
    result = run(
        tmp_path,
        f"""
        import os
        for d in ("/tmp", "/var/tmp"):
            with open(os.path.join(d, {tag!r}), "w") as fh:
                fh.write("left behind?")
        return sorted(os.listdir("/tmp"))
        """,
    )
    assert result.ok, result.error
    seen = result.report["scores"]["x.detect_x"]
    assert tag in seen and "config" in seen  # its /tmp is its scratch dir
    assert not any(name.startswith("pytest-of-") for name in seen)  # not the host's
    assert not (Path("/tmp") / tag).exists() and not (Path("/var/tmp") / tag).exists()


def test_the_channel_keeps_only_what_a_run_needs():
    seen = []
    channel = MessageChannel(Budget(16 * MiB), lambda p, n: seen.append((p, n)))
    lines = [
        {"progress": ["p" * 10_000, 5]},
        {"progress": ["x", True]},  # not a row count: dropped
        {"peak_rss_bytes": "lots"},  # not a number: ignored, not a crash
        {"report": {"first": 1}},
        {"report": {"second": 2}},
        {"peak_rss_bytes": 123},
        {"solver_used": "yes"},  # only true counts
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    # Split mid-line: framing must not care where the reads end.
    assert channel.feed(data[:7]) and channel.feed(data[7:])
    nested = b"[" * 100_000 + b"]" * 100_000 + b"\n"  # RecursionError, not a crash
    assert channel.feed(nested)
    assert seen == [("p" * 64, 5)]
    assert channel.report == {"first": 1} and channel.peak_rss == 123
    assert channel.solver_used is False
    assert channel.feed(b'{"solver_used": true}\n') and channel.solver_used is True
    assert channel.error == {"kind": "protocol", "message": "garbled worker message"}


def test_the_channel_refuses_a_line_whose_parsed_form_is_past_the_budget():
    channel = MessageChannel(Budget(MiB))
    bomb = b'{"report": [' + b"{}," * 20_000 + b"{}]}\n"  # 60 kB, ~1.4 MB parsed
    assert parsed_size_bound(bomb) > MiB
    assert not channel.feed(bomb)
    assert channel.report is None and not channel.feed(b'{"report": {}}\n')
