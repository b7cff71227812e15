"""Helpers for the repos tests: isolated git, and worker functions that
multiprocessing can run in child processes."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from pathlib import Path

from repos import housekeeping
from repos.errors import PreconditionFailed
from repos.maintenance import git_env
from repos.store import Store
from repos.types import Author

AUTHOR = Author("Ann Author", "ann@example.test")
WS, CFG = "ws1", "cfg1"


# Commands that read a repository's object store as a whole: run under git's gc
# lock, as an operator would, so the housekeeping thread of this test process does
# not repack (delete loose objects) in the middle of them.
_WHOLE_STORE = {"fsck", "count-objects"}


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run the real git CLI with no user/system config; return stdout."""
    guard = (
        housekeeping.gc_lock(Path(cwd), wait=120)
        if args and args[0] in _WHOLE_STORE
        else contextlib.nullcontext(True)
    )
    with guard as held, tempfile.TemporaryDirectory() as home:
        assert held, "maintenance kept the gc lock for two minutes"
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_env(home),
            capture_output=True,
            text=True,
            check=False,
        )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {args} failed: {proc.stderr}")
    return proc.stdout


def count_loose(repo_path: Path) -> int:
    """Loose objects according to ``git count-objects -v``."""
    out = git(repo_path, "count-objects", "-v")
    return int(dict(line.split(": ") for line in out.splitlines())["count"])


def write_many(root: str, worker: int, count: int, host_lock: bool, start) -> int:
    """Process body: ``count`` creates of distinct files, one commit each."""
    repo = Store(Path(root), host_lock=host_lock).open(WS, CFG)
    start.wait()
    for i in range(count):
        repo.write_file(
            f"w{worker}/f{i}.txt",
            f"{worker}:{i}\n".encode(),
            author=AUTHOR,
            create=True,
        )
    return count


def race_one(root: str, worker: int, expected: str, host_lock: bool, start) -> str:
    """Process or thread body: update one shared file against ``expected``."""
    repo = Store(Path(root), host_lock=host_lock).open(WS, CFG)
    start.wait()
    try:
        repo.write_file(
            "shared.txt",
            f"written by {worker}\n".encode(),
            author=AUTHOR,
            expected_sha=expected,
        )
    except PreconditionFailed as exc:
        return f"412:{exc.current_sha}"
    return "ok"


def _child(queue, fn, args) -> None:
    try:
        queue.put(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - report anything to the parent
        queue.put(("error", repr(exc)))


def run_in_processes(fn, args_list: list[tuple], timeout: float = 120) -> list:
    """Run ``fn(*args, start)`` in one forked process per args tuple, all
    released together by a barrier; return their results (raise on any error)."""
    import multiprocessing

    # fork: ~10x cheaper start than spawn; the children open their own repos.
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(len(args_list))
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_child, args=(queue, fn, (*args, start)))
        for args in args_list
    ]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(timeout=timeout)
    errors = [value for status, value in results if status == "error"]
    assert not errors, errors
    return [value for _status, value in results]


def gc_loop(root: str, rounds: int, start) -> int:
    """Process body: full ``git gc`` over and over while others write."""
    repo = Store(Path(root)).open(WS, CFG)
    start.wait()
    for _ in range(rounds):
        repo.maintain(force=True)
    return rounds
