"""A stateless worker's local caches: config trees by ``files_hash``, documents by
sha256. Content-addressed, so an entry never goes stale; bounded in bytes, the
least recently used unpinned entries are evicted first.

An entry is filled once even when several runs want it at the same moment (a lock
per key), and is pinned while a run uses it, so eviction never pulls a tree from
under a starting sandbox. One worker process owns a cache directory (an ``flock``
on it): two processes sharing one would evict each other's pinned entries.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from app import metrics

log = logging.getLogger(__name__)


class CacheBusy(RuntimeError):
    """Another worker process owns this cache directory."""


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


class DirCache:
    """Entries ``root/<key>`` (a file or a directory), at most ``max_bytes`` of
    unpinned ones kept. ``name`` labels the metrics (``config``, ``document``)."""

    def __init__(self, root: Path, max_bytes: int, name: str):
        self.root, self.max_bytes, self.name = Path(root), max_bytes, name
        self.root.mkdir(parents=True, exist_ok=True)
        self._lockfile = open(self.root / ".lock", "w")  # noqa: SIM115 - held for life
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise CacheBusy(f"{self.root} is used by another worker process") from exc
        self._tmp = self.root / ".tmp"
        shutil.rmtree(self._tmp, ignore_errors=True)  # a killed fill's leftovers
        self._tmp.mkdir()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._pins: Counter[str] = Counter()
        # key -> [bytes, last use]; what is on disk at start counts, oldest first.
        self._entries: dict[str, list[float]] = {}
        for path in sorted(self.root.iterdir(), key=lambda p: p.stat().st_mtime):
            if not path.name.startswith("."):
                self._entries[path.name] = [_size(path), path.stat().st_mtime]

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def get(self, key: str, fill: Callable[[Path], None]) -> Path:
        """The entry for ``key``, pinned (``release`` it after use); ``fill(dest)``
        creates a missing one at ``dest`` (it must not exist afterwards if fill
        raises)."""
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"bad cache key {key!r}")
        path = self.root / key
        with self._key_lock(key):
            with self._lock:
                self._pins[key] += 1
                known = key in self._entries and path.exists()
                if known:
                    self._entries[key][1] = time.time()
            if known:
                metrics.m().cache.labels(self.name, "hit").inc()
                return path
            metrics.m().cache.labels(self.name, "miss").inc()
            try:
                self._fill(key, path, fill)
            except BaseException:
                self.release(key)
                raise
        self._evict()
        return path

    def _fill(self, key: str, path: Path, fill: Callable[[Path], None]) -> None:
        work = self._tmp / uuid.uuid4().hex
        work.mkdir()
        try:
            fill(work / key)
            if path.exists():  # left by an earlier process: replace it
                self._remove(path)
            os.replace(work / key, path)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with self._lock:
            self._entries[key] = [_size(path), time.time()]

    def release(self, key: str) -> None:
        with self._lock:
            self._pins[key] -= 1
            if self._pins[key] <= 0:
                del self._pins[key]
        self._evict()

    def _evict(self) -> None:
        with self._lock:
            total = sum(size for size, _used in self._entries.values())
            order = sorted(self._entries.items(), key=lambda item: item[1][1])
            candidates = [key for key, _entry in order if not self._pins[key]]
        for key in candidates:
            if total <= self.max_bytes:
                return
            lock = self._key_lock(key)
            if not lock.acquire(blocking=False):
                continue  # being filled or looked up right now: not a victim
            try:
                with self._lock:
                    if self._pins[key] or key not in self._entries:
                        continue
                    total -= self._entries.pop(key)[0]
                self._remove(self.root / key)
            finally:
                lock.release()

    def _remove(self, path: Path) -> None:
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not evict %s", path, exc_info=True)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)
