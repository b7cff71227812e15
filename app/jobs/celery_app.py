"""The Celery executor: ``ade worker`` consumes, the API only sends wake-ups.

A message carries just the job id. The worker claims the row (queued → running) before
running, so redelivered or duplicate messages are harmless; a reaper thread in every
worker requeues jobs whose worker died and sends them again after their backoff.
"""

from __future__ import annotations

import logging
import threading

from celery import Celery
from flask import Flask

from app.jobs.execute import claim, reap, run_claimed
from app.jobs.runtime import JobRuntime
from app.models import QUEUED, Job, utcnow

log = logging.getLogger(__name__)
TASK = "ade.run_job"


def make_celery(app: Flask) -> Celery:
    prefix = app.config["BROKER_PREFIX"]
    celery = Celery("ade", broker=app.config["BROKER_URL"])
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


class CeleryExecutor:
    """Submitting side, used by the API process."""

    def __init__(self, app: Flask):
        self.celery = make_celery(app)

    def start(self) -> None:
        """Nothing runs here: ``ade worker`` processes do the work."""

    def submit(self, job_id: str, countdown: float = 0) -> None:
        self.celery.send_task(TASK, args=[job_id], countdown=countdown or None)

    def stop(self, timeout: float = 5.0) -> None:
        self.celery.close()


def worker_celery(app: Flask) -> Celery:
    """The Celery app of a worker process, with the job task and the reaper."""
    rt = JobRuntime.from_app(app)
    celery = make_celery(app)

    @celery.task(name=TASK)
    def run_job(job_id: str) -> None:
        if claim(rt, job_id):
            run_claimed(rt, job_id)

    def reaper() -> None:
        while True:
            threading.Event().wait(rt.heartbeat_seconds)
            try:
                for job_id in reap(rt):
                    with rt.sessions() as s:
                        job = s.get(Job, job_id)
                        if job is None or job.status != QUEUED:
                            continue
                        wait = (job.available_at - utcnow()).total_seconds()
                    celery.send_task(
                        TASK, args=[job_id], countdown=max(wait, 0) or None
                    )
            except Exception:  # noqa: BLE001
                log.warning("reaper failed", exc_info=True)

    threading.Thread(target=reaper, name="ade-job-reaper", daemon=True).start()
    return celery
