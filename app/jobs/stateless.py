"""A stateless worker: Celery for the wake-ups, the API and git for everything else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celery import Celery

from app.jobs.celery_app import worker_celery
from app.jobs.execute import RunSettings
from app.jobs.http_port import HttpPort, WorkerSettings
from app.jobs.runtime import worker_name
from app.services.jobs import job_limits


def stateless_port(settings: Mapping[str, Any], api_url: str, token: str) -> HttpPort:
    return HttpPort(
        WorkerSettings(
            api_url=api_url,
            token=token,
            worker_name=worker_name(),
            cache_dir=settings["WORKER_CACHE_DIR"],
            config_cache_bytes=settings["WORKER_CONFIG_CACHE_BYTES"],
            document_cache_bytes=settings["WORKER_DOCUMENT_CACHE_BYTES"],
        )
    )


def stateless_celery(settings: Mapping[str, Any], api_url: str, token: str) -> Celery:
    """The Celery app of ``ade worker --api URL --token T``. The sandbox limits
    and the heartbeat rhythm are this worker's settings (the API enforces the
    upload bounds on its side)."""
    run = RunSettings(job_limits(settings), settings["JOB_HEARTBEAT_SECONDS"])
    return worker_celery(settings, stateless_port(settings, api_url, token), run)
