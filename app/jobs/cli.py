"""``ade worker``: a Celery worker for jobs (ADE_JOB_BACKEND=celery).

With ``--api``/``ADE_API_URL`` and a worker token it is stateless: it talks to the
API over HTTP and git and never builds the app, opens the database or touches the
data dir. Without them it is a shared-disk worker: the app, the database and the
data dir, as on an API host.
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo


@click.command("worker")
@click.option(
    "--api",
    "api_url",
    default=None,
    help="The API's URL (ADE_API_URL): "
    "run stateless, over HTTP and git, without database or data dir.",
)
@click.option(
    "--token",
    default=None,
    help="A worker token (ADE_WORKER_TOKEN; "
    "prefer the variable: a command line is visible to other users).",
)
@click.option(
    "--concurrency",
    type=int,
    default=None,
    help="Jobs at once (default: ADE_JOB_CONCURRENCY).",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve Prometheus metrics on this port (ADE_WORKER_METRICS_PORT).",
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.pass_context
def worker_command(ctx, api_url, token, concurrency, metrics_port, loglevel):
    """Run a Celery worker that executes jobs."""
    from app.config import load_settings

    settings = load_settings()
    api_url = (api_url or settings["API_URL"]).rstrip("/")
    token = token or settings["WORKER_TOKEN"]
    concurrency = concurrency or settings["JOB_CONCURRENCY"]
    if metrics_port is None:
        metrics_port = settings["WORKER_METRICS_PORT"]
    if api_url:
        if not token:
            raise click.UsageError(
                "--api needs a worker token (--token or ADE_WORKER_TOKEN)"
            )
        from app.jobs.stateless import stateless_celery

        celery = stateless_celery(settings, api_url, token)
    else:
        from app.jobs.celery_app import shared_disk_celery

        app = ctx.ensure_object(ScriptInfo).load_app()
        with app.app_context():
            celery = shared_disk_celery(app)
    _start(celery, settings, concurrency, metrics_port, loglevel)


def _start(celery, settings, concurrency, metrics_port, loglevel) -> None:
    from app import logs
    from app.jobs.sandbox import start_sandbox_pool
    from app.server import report_sandbox

    logs.configure(settings["LOG_LEVEL"], settings["LOG_FORMAT"])
    report_sandbox()
    start_sandbox_pool(settings)  # Celery runs jobs in threads of this process
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, settings["WORKER_METRICS_HOST"])
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
