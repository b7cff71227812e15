"""The stateless worker's caches: bounded in bytes, least recently used first,
never evicting an entry a run is using, one fill per key, one process per dir."""

from __future__ import annotations

import threading
import time

import pytest

from app.jobs.cache import CacheBusy, DirCache


def _writer(size: int, calls: list):
    def fill(dest):
        calls.append(dest.name)
        dest.write_bytes(b"x" * size)

    return fill


def test_lru_eviction_within_the_bound_and_pins_hold(tmp_path):
    cache = DirCache(tmp_path / "c", max_bytes=250, name="document")
    calls: list[str] = []
    for key in ("a", "b"):
        cache.get(key, _writer(100, calls))
        cache.release(key)
    time.sleep(0.01)
    cache.get("a", _writer(100, calls))  # a is now the most recently used
    cache.release("a")
    cache.get("c", _writer(100, calls))  # 300 > 250: b, the least recent, goes
    assert sorted(cache.keys()) == ["a", "c"] and not (tmp_path / "c" / "b").exists()
    assert calls == ["a", "b", "c"]
    # c stays pinned: a new entry evicts a, never c, even past the bound.
    cache.get("d", _writer(200, calls))
    cache.release("d")
    assert "c" in cache.keys() and (tmp_path / "c" / "c").is_file()
    cache.release("c")
    cache.get("e", _writer(10, calls))
    cache.release("e")
    assert sum((tmp_path / "c" / k).stat().st_size for k in cache.keys()) <= 250


def test_one_fill_per_key_and_a_failed_fill_leaves_nothing(tmp_path):
    cache = DirCache(tmp_path / "c", max_bytes=10_000, name="config")
    calls: list[str] = []
    gate = threading.Event()

    def slow(dest):
        gate.wait(5)
        _writer(10, calls)(dest)

    threads = [threading.Thread(target=lambda: cache.get("k", slow)) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert calls == ["k"]

    def broken(dest):
        dest.write_bytes(b"half")
        raise OSError("network gone")

    with pytest.raises(OSError):
        cache.get("bad", broken)
    assert "bad" not in cache.keys() and not (tmp_path / "c" / "bad").exists()
    # Entries survive a restart; a second process on the same dir is refused.
    with pytest.raises(CacheBusy):
        DirCache(tmp_path / "c", max_bytes=10_000, name="config")
    cache._lockfile.close()
    again = DirCache(tmp_path / "c", max_bytes=10_000, name="config")
    assert again.keys() == ["k"]


def test_sandbox_failures_are_labelled_by_a_fixed_reason():
    from app.metrics import failure_reason

    assert failure_reason("CPU time limit of 2 s exceeded") == "cpu"
    assert failure_reason("time limit of 3 s exceeded") == "time"
    assert failure_reason("memory limit exceeded (2048 MiB)") == "memory"
    assert failure_reason("report and messages larger than 64 MiB") == "report"
    assert failure_reason("all sandbox slots are busy") == "busy"
    assert failure_reason("ZeroDivisionError in columns/email.py:3") == "script"
