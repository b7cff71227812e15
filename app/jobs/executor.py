"""The app's executor, chosen by ADE_JOB_BACKEND and started on first use."""

from __future__ import annotations

import threading

from flask import Flask, current_app

_lock = threading.Lock()


def get_executor(app: Flask | None = None):
    app = app or current_app._get_current_object()
    executor = app.extensions.get("ade.executor")
    if executor is None:
        with _lock:
            executor = app.extensions.get("ade.executor")
            if executor is None:
                from app.jobs.sandbox import start_sandbox_pool

                # The executor's jobs and the API's dry runs share this pool.
                start_sandbox_pool(app.config)
                executor = _make(app)
                executor.start()
                app.extensions["ade.executor"] = executor
    return executor


def _make(app: Flask):
    backend = app.config["JOB_BACKEND"]
    if backend == "celery":
        from app.jobs.celery_app import CeleryExecutor

        return CeleryExecutor(app)
    if backend == "local":
        from app.jobs.local import LocalExecutor
        from app.jobs.runtime import JobRuntime

        return LocalExecutor(JobRuntime.from_app(app), app.config["JOB_CONCURRENCY"])
    raise ValueError(f"unknown job backend {backend!r}")  # app.config checks it
