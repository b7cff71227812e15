"""What a job execution needs, built from the app's settings (no request context)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import sessionmaker

from repos.store import Store
from runner.sandbox import Limits


@dataclass(frozen=True)
class JobRuntime:
    sessions: sessionmaker
    data_dir: Path
    store: Store
    limits: Limits
    heartbeat_seconds: float
    heartbeat_timeout: float
    max_attempts: int
    worker_name: str

    @classmethod
    def from_app(cls, app: Flask) -> JobRuntime:
        from app.services.store import get_store

        cfg = app.config
        with app.app_context():
            store = get_store()
        return cls(
            sessions=app.extensions["ade.sessionmaker"],
            data_dir=cfg["DATA_DIR"],
            store=store,
            limits=Limits(
                cpu_seconds=cfg["SANDBOX_CPU_SECONDS"],
                wall_seconds=cfg["SANDBOX_WALL_SECONDS"],
                memory_bytes=cfg["SANDBOX_MEMORY_BYTES"],
            ),
            heartbeat_seconds=cfg["JOB_HEARTBEAT_SECONDS"],
            heartbeat_timeout=cfg["JOB_HEARTBEAT_TIMEOUT"],
            max_attempts=cfg["JOB_MAX_ATTEMPTS"],
            worker_name=f"{socket.gethostname()}:{os.getpid()}",
        )

    def job_dir(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id
