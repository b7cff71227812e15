"""The app's executor, chosen by ADE_JOB_BACKEND and started on first use; and the
process's dry-run pool, likewise."""

from __future__ import annotations

import os
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


def get_dry_run_pool(app: Flask | None = None):
    """This process's dry-run pool (``ADE_DRY_RUN_WORKERS`` threads): one per
    process, so a gunicorn worker never uses one its master made before forking."""
    from app.services.dryrun_pool import DryRunPool

    app = app or current_app._get_current_object()
    pool = app.extensions.get("ade.dry_runs")
    if pool is None or pool.pid != os.getpid():
        with _lock:
            pool = app.extensions.get("ade.dry_runs")
            if pool is None or pool.pid != os.getpid():
                cfg = app.config
                pool = DryRunPool(
                    cfg["DRY_RUN_WORKERS"],
                    cfg["DRY_RUN_QUEUE"],
                    retry_after=max(1, cfg["DRY_RUN_SYNC_SECONDS"]),
                )
                pool.start()
                app.extensions["ade.dry_runs"] = pool
    return pool


def stop_dry_run_pool(app: Flask) -> None:
    """Cancel this process's dry runs (their reports say so), if it has a pool."""
    pool = app.extensions.get("ade.dry_runs")
    if pool is not None and pool.pid == os.getpid():
        pool.stop()
