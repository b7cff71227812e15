"""Hostile ``run.py`` files for dry runs (issue 12), each passing the guardrails and
printing its sandbox uid first (for the look at what the run left behind)."""

from __future__ import annotations

_HEAD = """import typing


def run_start(*, ctx, **_):
    m = typing.sys.modules
    os = m["os"]
    print("sandbox uid", os.getuid(), flush=True)
"""

# Sleeps past any wall limit: holds whatever runs it until the deadline.
SLEEP = (
    _HEAD
    + """    m["time"].sleep(3600)
"""
)

# The repro of issue 12's item 1: the engine "writes" a FIFO as its workbook.
FIFO = (
    _HEAD
    + """    w = m["runner.write"]
    w.write_workbook = lambda path, *a, **k: os.mkfifo(str(path))
"""
)

# Writes JSON lines on the worker's message pipe until the service stops it.
MESSAGE_FLOOD = (
    _HEAD
    + """    fd = m["json"].loads(m["sys"].argv[1])["fd"]
    line = b'{"x": "' + b"a" * 1000 + b'"}\\n'
    for _ in range(512 * 1024):
        os.write(fd, line)
"""
)

# Takes memory (touched, not just reserved) until the memory limit stops it.
MEMORY_FLOOD = (
    _HEAD
    + """    hoard = []
    while True:
        hoard.append(b"x" * (32 * 2**20))
"""
)

HOSTILE = {
    "sleep": SLEEP,
    "fifo": FIFO,
    "message-flood": MESSAGE_FLOOD,
    "memory-flood": MEMORY_FLOOD,
}


def sandbox_uid(logs: list[str]) -> int | None:
    """The uid a run printed (None: it printed none, e.g. no isolation)."""
    for line in logs:
        if "sandbox uid" in line:
            return int(line.split()[-1])
    return None
