"""Housekeeping of one bare repository: stale lock files and ``git gc``.

libgit2 never expires a lock and never garbage-collects, so both are done here
(when: ``repos.housekeeping``).
Git runs as a subprocess with an isolated environment: no system or user config can
change what it does (a user's ``gc.pruneExpire=now`` would be dangerous on a live
repository).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

# Written after each gc: the loose objects git kept (unreachable ones younger than
# the prune grace stay loose), so the next gc waits for *new* loose objects.
GC_STAMP = "ade-gc-baseline"
_HEX = "0123456789abcdef"
_SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


def remove_stale_locks(repo_path: Path, older_than: float) -> list[Path]:
    """Delete ``*.lock`` files of the repo's refs whose mtime is older than
    ``older_than`` seconds (a killed writer's leftovers); return what was removed.

    Live writers hold a ref lock for well under a millisecond, so a lock that old
    belongs to nobody.
    """
    now = time.time()
    removed: list[Path] = []
    candidates = list(repo_path.glob("*.lock"))
    refs = repo_path / "refs"
    if refs.is_dir():
        candidates += refs.rglob("*.lock")
    for lock in candidates:
        try:
            if now - lock.stat().st_mtime >= older_than:
                lock.unlink()
                removed.append(lock)
        except FileNotFoundError:
            continue  # its owner finished meanwhile
    if removed:
        log.warning("removed stale lock files: %s", [str(p) for p in removed])
    return removed


def count_loose_objects(repo_path: Path) -> int:
    """Exact count of loose objects. Only the fan-out directories that exist are
    read (git removes empty ones when it packs), so a compact repo costs little."""
    total = 0
    try:
        with os.scandir(repo_path / "objects") as top:
            fanout = [e.path for e in top if len(e.name) == 2 and e.name[0] in _HEX]
    except FileNotFoundError:
        return 0
    for path in fanout:
        try:
            with os.scandir(path) as it:
                total += sum(1 for _ in it)
        except FileNotFoundError:
            continue
    return total


def read_baseline(repo_path: Path) -> int:
    """Loose objects left by the last gc (0 if none ran)."""
    try:
        return int((repo_path / GC_STAMP).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def needs_gc(repo_path: Path, threshold: int) -> bool:
    """True when loose objects exceed the last gc's leftovers by ``threshold``."""
    return count_loose_objects(repo_path) > read_baseline(repo_path) + threshold


def git_env(home: str) -> dict[str, str]:
    """A minimal environment for git subprocesses, free of any user/system config."""
    return {
        "PATH": _SAFE_PATH,
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


def find_git(git: str = "git") -> str:
    """Absolute path of the git executable (looked up once by the Store)."""
    found = shutil.which(git) or shutil.which(git, path=_SAFE_PATH)
    return found or git


def run_git(
    repo_path: Path,
    args: list[str],
    *,
    git: str = "git",
    timeout: float = 300.0,
    background: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``git <args>`` against the bare repo in an isolated environment.
    ``background``: at low CPU priority (``nice``), so requests come first, and
    killed with the thread that started it (``setpriv --pdeathsig``): the lock in
    ``gc.pid`` names this process, so a repack must not outlive it and run beside
    the next runner, which takes a dead owner's lock as free."""
    prefix = []
    if background:
        setpriv = shutil.which("setpriv", path=_SAFE_PATH)
        nice = shutil.which("nice", path=_SAFE_PATH)
        prefix += [setpriv, "--pdeathsig", "KILL"] if setpriv else []
        prefix += [nice, "-n", "10"] if nice else []
    with tempfile.TemporaryDirectory(prefix="ade-git-home-") as home:
        return subprocess.run(
            [*prefix, git, "--git-dir", str(repo_path), *args],
            env=git_env(home),
            cwd=repo_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def count_packs(repo_path: Path) -> int:
    """Number of pack files."""
    return sum(1 for _ in (repo_path / "objects" / "pack").glob("*.pack"))


def gc(
    repo_path: Path, *, git: str = "git", full: bool = True, holding_lock: bool = False
) -> bool:
    """Pack loose objects; returns True on success.

    ``full``: ``git gc --quiet`` with git's default prune grace (never
    ``--prune=now``: that can delete the objects of a save in flight). Otherwise
    ``git repack -d -q``: packs only the loose objects into one more pack and
    drops the loose copies, at a cost proportional to what is new rather than to
    the whole history (what git's own ``gc --auto`` does between full gcs).

    A gc already running elsewhere makes git refuse; that is fine, it is doing
    the job, so the refusal is only logged. ``holding_lock``: the caller holds
    ``gc.pid`` (``housekeeping.gc_lock``), so git must not refuse because of it.
    """
    if full:
        args = ["gc", "--quiet", *(["--force"] if holding_lock else [])]
    else:
        args = ["repack", "-d", "-q"]
    try:
        # One packing thread at low priority: on a small host the other cores
        # keep serving requests while a repository is packed.
        proc = run_git(
            repo_path, ["-c", "pack.threads=1", *args], git=git, background=True
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("git %s failed to run in %s: %s", args[0], repo_path, exc)
        return False
    if proc.returncode != 0:
        log.info(
            "git %s in %s exited %s: %s",
            args[0],
            repo_path,
            proc.returncode,
            proc.stderr.strip(),
        )
        return False
    try:
        _write_baseline(repo_path, count_loose_objects(repo_path))
    except OSError as exc:
        # The pack is made; a missing baseline only makes the next look gc sooner.
        log.warning("cannot record the gc baseline of %s: %s", repo_path, exc)
    return True


def _write_baseline(repo_path: Path, count: int) -> None:
    # Write-then-rename so a concurrent reader never sees a half-written number.
    # The temp name is unique per writer, not per process: two threads of one
    # process finishing a gc together shared a per-pid name, and the second rename
    # found the file gone (issue 16).
    fd, tmp = tempfile.mkstemp(prefix=f"{GC_STAMP}.", suffix=".tmp", dir=repo_path)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(f"{count}\n")
        os.replace(tmp, repo_path / GC_STAMP)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
