"""Production serving: gunicorn, started from ``ade serve``."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import tempfile

from flask import Flask
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from app import db, metrics
from app.jobs.executor import get_executor, stop_dry_run_pool
from app.schemas.problem import (
    HEADER_FIELD_BYTES,
    HEADER_FIELDS,
    PROBLEM,
    REQUEST_LINE_BYTES,
)
from runner.sandbox import sandbox_capabilities
from runner.sandbox.pool import shutdown_pools

log = logging.getLogger(__name__)
# Settings newer than the oldest gunicorn setup.cfg allows; skipped where unknown.
OPTIONAL_SETTINGS = {"control_socket_disable"}


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in OPTIONAL_SETTINGS and key not in self.cfg.settings:
                continue  # an older gunicorn without that setting
            self.cfg.set(key, value)

    def load(self):
        return self.application


def write_problem(sock, status: int, reason: str, detail: str) -> None:
    """gunicorn's answer to a request it refuses before the app (a request line
    or a header over its limit, a malformed request), as problem+json."""
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


class ProblemWorker(ThreadWorker):
    """gunicorn's threaded worker, whose own refusals (414, 431, 400) are
    problem+json like every answer of the app instead of an HTML page.
    ``util.write_error`` is the one function gunicorn writes them with; it is
    replaced in the worker process only."""

    def init_process(self):
        gunicorn_util.write_error = write_problem
        super().init_process()


def prepare(app: Flask) -> None:
    """Run before any worker starts: migrate, then make SQL agree with git."""
    db.upgrade(app.config["DATABASE_URL"])
    from app.services.repair import reconcile_all

    report = reconcile_all(app.config)
    if report:
        log.warning("reconciler repaired the index: %s", "; ".join(map(str, report)))
    from app.services.dryrun_store import prune_all

    prune_all(app.config["DATA_DIR"], app.config)  # expired dry-run outputs
    report_sandbox()


def report_sandbox() -> None:
    """Say once, at start-up, how config code is isolated on this machine (SPEC §6).

    ``ade serve`` and ``ade worker`` both call it: Celery workers run the sandboxes
    of jobs on their own machines, which may not allow what the API host does.
    """
    caps = sandbox_capabilities()
    if caps.get("mode") != "isolated":
        log.warning("sandbox runs with resource limits only: %s", caps.get("reason"))
    else:
        log.info("sandbox: own uid per run, no network, resource limits")


def serve(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    prepare(app)
    # Several worker processes: their counters meet in a private directory that
    # lives as long as this master (prometheus_client's multiprocess mode).
    metrics_dir = tempfile.mkdtemp(prefix="ade-metrics-")
    metrics.use_multiprocess_dir(metrics_dir)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": ProblemWorker,
        # gunicorn's defaults, named because the API document states them.
        "limit_request_line": REQUEST_LINE_BYTES,
        "limit_request_fields": HEADER_FIELDS,
        "limit_request_field_size": HEADER_FIELD_BYTES,
        # A request waits for its dry run at most DRY_RUN_SYNC_SECONDS (the run
        # itself is on the dry-run pool); kept generous for slow git requests.
        "timeout": app.config["DRY_RUN_WALL_SECONDS"] + 30,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        # gunicorn >= 25.1 opens a control socket by default, at one path per
        # user ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl): a second instance
        # took over the first one's. Nothing here uses gunicornc, so none.
        "control_socket_disable": True,
        "post_fork": lambda _server, _worker: _start_jobs(app),
        "worker_exit": lambda _server, _worker: _stop_jobs(app),
        "child_exit": lambda _server, worker: metrics.process_exited(worker.pid),
        # The master only (a try/finally here would run in every forked worker
        # too, as they leave through SystemExit).
        "on_exit": lambda _server: shutil.rmtree(metrics_dir, ignore_errors=True),
    }
    _Gunicorn(app, options).run()


def _stop_jobs(app: Flask) -> None:
    """In each worker on its way out (SIGTERM, Ctrl-C): stop the executor, so the
    job it runs is killed and queued again instead of left 'running' for the
    reaper with its sandbox orphaned. A further stop signal (the master's, after
    the terminal's) must not cut this short: gunicorn's handler would raise
    SystemExit mid-stop; the master still SIGKILLs at graceful_timeout."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    stop_dry_run_pool(app)
    executor = app.extensions.get("ade.executor")
    if executor is not None:
        executor.stop()
    shutdown_pools()  # its warm sandbox workers (atexit would too, later)


def _start_jobs(app: Flask) -> None:
    """In each worker process: start the executor now, so jobs queued before a
    restart (or requeued by the reaper) run without waiting for a new submit.
    With Celery this starts the reaper: stateless workers have no database, so
    the API processes requeue the jobs of workers that died."""
    get_executor(app)
