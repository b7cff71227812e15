"""The dry runs' own small pool of threads, one per API process, so that a run never
holds a thread that serves requests (issue 12: eight sleeping dry runs stopped the
service answering for 50 s).

The pool is bounded twice: ``workers`` threads run sandboxes, and at most ``queue``
more runs wait for one (past that, ``TooMany``). A heartbeat thread stamps every run
it holds, queued or running, every ``HEARTBEAT_SECONDS``, so any process reading a
run's folder can tell a live run from one whose process died
(``app.services.dryrun_store.is_stale``). A request may wait for its run for a short
while to answer synchronously; at most ``workers`` requests of a process wait at once
(the others answer at once with the run's status), so waiting requests cannot take
the serving threads either.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Protocol

from app.services.errors import TooMany

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 1.0


class Task(Protocol):
    """A run the pool can hold (``app.services.dryrun.DryRunTask``)."""

    done: threading.Event
    cancel: threading.Event

    def run(self) -> None: ...

    def heartbeat(self) -> None: ...

    def abandon(self, error: str) -> None: ...


class DryRunPool:
    def __init__(self, workers: int, queue_size: int, retry_after: int = 5) -> None:
        self.workers = max(1, workers)
        self.pid = os.getpid()  # a pool is not inherited across fork
        self.retry_after = retry_after
        self._queue: queue.Queue = queue.Queue()  # bounded by ``submit``
        self._queue_size = max(0, queue_size)
        self._held: set = set()  # submitted and not finished: queued or running
        self._running: set = set()
        self._lock = threading.Condition()
        self._waiters = threading.BoundedSemaphore(self.workers)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self.workers):
            self._spawn(self._work, f"ade-dry-run-{i}")
        self._spawn(self._beat, "ade-dry-run-heartbeat")

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def submit(self, task: Task) -> None:
        """Queue ``task``; ``TooMany`` when ``workers`` run and ``queue`` wait."""
        with self._lock:
            waiting = len(self._held) - len(self._running)
            if self._stop.is_set() or waiting >= self._queue_size + self._idle():
                raise TooMany(
                    "The service has as many dry runs waiting as it takes; retry "
                    "shortly.",
                    self.retry_after,
                )
            self._held.add(task)
            self._lock.notify_all()
        self._queue.put(task)

    def _idle(self) -> int:
        return self.workers - len(self._running)

    def wait(self, task: Task, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``task``; True when it is done. Only
        ``workers`` callers wait at once; the others get the answer as it is now."""
        if seconds <= 0 or not self._waiters.acquire(blocking=False):
            return task.done.is_set()
        try:
            return task.done.wait(seconds)
        finally:
            self._waiters.release()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel every run (a running sandbox is killed; its report says so) and
        fail the queued ones."""
        self._stop.set()
        with self._lock:
            for task in self._held:
                task.cancel.set()
            self._lock.notify_all()
        for _ in range(self.workers):
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            with self._lock:
                self._running.add(task)
            try:
                if self._stop.is_set():
                    self._abandon(task, "the service stopped before the dry run began")
                else:
                    task.run()
            except Exception:  # noqa: BLE001 - a bug must not take the thread
                log.exception("dry run failed")
                self._abandon(task, "the dry run failed in the service (logged)")
            finally:
                with self._lock:
                    self._running.discard(task)
                    self._held.discard(task)

    @staticmethod
    def _abandon(task: Task, error: str) -> None:
        try:
            task.abandon(error)
        except Exception:  # noqa: BLE001 - e.g. its folder went with its workspace
            log.exception("could not record a failed dry run")

    def _beat(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                while not self._held and not self._stop.is_set():
                    self._lock.wait()
                held = list(self._held)
            for task in held:
                try:
                    task.heartbeat()
                except Exception:  # noqa: BLE001 - a pruned folder, a full disk
                    log.warning("dry-run heartbeat failed", exc_info=True)
            self._stop.wait(HEARTBEAT_SECONDS)
