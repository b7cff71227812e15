"""The Celery executor: ``ade worker`` consumes, the API only sends wake-ups.

A message carries just the job id. The worker claims the row (queued → running) before
running, so redelivered or duplicate messages are harmless. A reaper requeues jobs
whose worker died and sends them again after their backoff: it runs wherever the
database is, i.e. in the API processes (``CeleryExecutor``) and in shared-disk
workers; stateless workers (``ade worker --api``) have no database and no reaper.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from celery import Celery
from flask import Flask

from app.jobs.execute import JobPort, RunSettings, run_claimed
from app.jobs.runtime import JobRuntime

log = logging.getLogger(__name__)
TASK = "ade.run_job"
CLAIM_RETRIES, CLAIM_RETRY_SECONDS = 120, 5  # a claim retried for up to 10 minutes


def make_celery(settings: Mapping[str, Any]) -> Celery:
    prefix = settings["BROKER_PREFIX"]
    celery = Celery("ade", broker=settings["BROKER_URL"])
    celery.conf.update(
        task_default_queue=f"{prefix}.jobs",
        broker_transport_options={"global_keyprefix": f"{prefix}:"},
        task_ignore_result=True,
        task_acks_late=False,  # the jobs table, not the broker, tracks delivery
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        worker_send_task_events=False,
    )
    return celery


class Reaper(threading.Thread):
    """Requeues lapsed jobs every heartbeat and wakes a worker for each once its
    backoff is over. Safe to run in several processes at once."""

    def __init__(self, rt: JobRuntime, wake: Callable[[str, float], None]):
        super().__init__(name="ade-job-reaper", daemon=True)
        self.rt, self.wake = rt, wake
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.rt.heartbeat_seconds):
            try:
                for job_id, wait in self.rt.reap().items():
                    self.wake(job_id, wait)
            except Exception:  # noqa: BLE001 - the DB or broker may be away briefly
                log.warning("reaper failed", exc_info=True)


class CeleryExecutor:
    """Submitting side, used by the API process; it also reaps."""

    def __init__(self, app: Flask):
        self.celery = make_celery(app.config)
        self.reaper = Reaper(JobRuntime.from_app(app), self.submit)

    def start(self) -> None:
        """Start the reaper: with stateless workers only the API holds the DB."""
        self.reaper.start()

    def submit(self, job_id: str, countdown: float = 0) -> None:
        self.celery.send_task(TASK, args=[job_id], countdown=countdown or None)

    def stop(self, timeout: float = 5.0) -> None:
        self.reaper.stopping.set()
        if self.reaper.is_alive():
            self.reaper.join(timeout)
        self.celery.close()


def worker_celery(
    settings: Mapping[str, Any], port: JobPort, run: RunSettings
) -> Celery:
    """The Celery app of a worker process: the job task, run through ``port``."""
    celery = make_celery(settings)

    # shared=False: the task belongs to this app only (a shared one would be added
    # to every Celery app made later in the process, the first port winning).
    @celery.task(name=TASK, bind=True, max_retries=CLAIM_RETRIES, shared=False)
    def run_job(task, job_id: str) -> None:
        try:
            lease = port.claim(job_id)
        except Exception as exc:  # noqa: BLE001 - the API or DB is away for now
            # The wake-up is already acked: without a retry the job would wait
            # for nobody. A claim that did go through is reaped like a dead run.
            log.warning("could not claim job %s (%s); retrying", job_id, exc)
            raise task.retry(countdown=CLAIM_RETRY_SECONDS, exc=exc) from exc
        if lease is not None:
            run_claimed(port, lease, run)

    return celery


def shared_disk_celery(app: Flask) -> Celery:
    """A worker on the shared data dir with the database: jobs and a reaper."""
    from app.jobs.direct import DirectPort

    rt = JobRuntime.from_app(app)
    celery = worker_celery(app.config, DirectPort(rt), rt.run_settings())

    def wake(job_id: str, wait: float) -> None:
        celery.send_task(TASK, args=[job_id], countdown=wait or None)

    Reaper(rt, wake).start()
    return celery
