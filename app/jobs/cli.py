"""``ade worker``: a Celery worker for jobs (ADE_JOB_BACKEND=celery)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option(
    "--concurrency",
    type=int,
    default=None,
    help="Jobs at once (default: ADE_JOB_CONCURRENCY).",
)
@click.option("--loglevel", default="INFO", show_default=True)
@with_appcontext
def worker_command(concurrency, loglevel):
    """Run a Celery worker that executes jobs."""
    from app.jobs.celery_app import worker_celery
    from app.server import report_sandbox

    app = current_app._get_current_object()
    report_sandbox()
    celery = worker_celery(app)
    concurrency = concurrency or app.config["JOB_CONCURRENCY"]
    celery.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
