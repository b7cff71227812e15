"""What a job execution needs, built from the app's settings (no request, no app
context): sessions, the store, the sandbox limits, the heartbeat rhythm."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app.jobs.execute import RunSettings
from app.jobs.sandbox import job_limits
from app.services import claims
from app.services.context import Context, make_store
from app.services.jobs import job_dir
from repos.store import Store
from runner.sandbox import Limits


def worker_name() -> str:
    """``host:pid``: who runs a job, for diagnostics (``jobs.worker``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class JobRuntime:
    sessions: sessionmaker
    settings: Mapping[str, Any]
    store: Store
    limits: Limits
    heartbeat_seconds: float
    heartbeat_timeout: float
    max_attempts: int
    worker_name: str

    @classmethod
    def from_app(cls, app: Flask) -> JobRuntime:
        cfg = app.config
        return cls(
            sessions=app.extensions["ade.sessionmaker"],
            settings=cfg,
            store=app.extensions.get("ade.store") or make_store(cfg),
            limits=job_limits(cfg),
            heartbeat_seconds=cfg["JOB_HEARTBEAT_SECONDS"],
            heartbeat_timeout=cfg["JOB_HEARTBEAT_TIMEOUT"],
            max_attempts=cfg["JOB_MAX_ATTEMPTS"],
            worker_name=worker_name(),
        )

    @property
    def data_dir(self) -> Path:
        return self.settings["DATA_DIR"]

    def context(self, session: Session) -> Context:
        """A service context for the job runner (no caller, nobody to wake)."""
        return Context(session=session, store=self.store, settings=self.settings)

    def job_dir(self, job_id: str) -> Path:
        return job_dir(self.data_dir, job_id)

    def run_settings(self) -> RunSettings:
        return RunSettings(self.limits, self.heartbeat_seconds)

    def reap(self) -> dict[str, float]:
        """Reap lapsed jobs; for those queued again, the seconds until they may run
        (a Celery wake-up's countdown)."""
        with self.sessions() as s:
            changed = claims.reap(s, self.heartbeat_timeout, self.max_attempts)
            return claims.wake_delays(s, changed) if changed else {}
