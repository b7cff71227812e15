"""The embedded executor: a small pool of threads inside the app process.

Threads poll the jobs table (woken at once on submit), so jobs queued before a restart,
or requeued by the reaper, are picked up without any broker.
"""

from __future__ import annotations

import logging
import threading

from app.jobs.direct import DirectPort
from app.jobs.execute import run_claimed
from app.jobs.runtime import JobRuntime

log = logging.getLogger(__name__)


class LocalExecutor:
    def __init__(self, rt: JobRuntime, concurrency: int, poll_seconds: float = 2.0):
        self.rt = rt
        self.port = DirectPort(rt)
        self.concurrency = max(1, concurrency)
        self.poll_seconds = poll_seconds
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self.concurrency):
            t = threading.Thread(target=self._work, name=f"ade-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._reap, name="ade-job-reaper", daemon=True)
        t.start()
        self._threads.append(t)

    def submit(self, job_id: str) -> None:
        with self._wake:
            self._wake.notify()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling; a running job's sandbox is killed and the job requeued."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for t in self._threads:
            t.join(timeout)

    def _work(self) -> None:
        settings = self.rt.run_settings()
        while not self._stop.is_set():
            try:
                lease = self.port.next_queued()
            except Exception:  # noqa: BLE001 - the DB may be briefly unavailable
                log.warning("could not poll for jobs", exc_info=True)
                lease = None
            if lease is None:
                with self._wake:
                    self._wake.wait(self.poll_seconds)
                continue
            run_claimed(self.port, lease, settings, self._stop)

    def _reap(self) -> None:
        while not self._stop.wait(self.rt.heartbeat_seconds):
            try:
                if self.rt.reap():
                    self.submit("")
            except Exception:  # noqa: BLE001
                log.warning("reaper failed", exc_info=True)
