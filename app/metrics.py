"""Prometheus metrics: what each process counts, and the job gauges read from SQL.

Counters and histograms live in this process (``prometheus_client``). Under
``ade serve`` gunicorn runs several worker processes, so ``serve`` switches the
library to its multiprocess mode before forking (``use_multiprocess_dir``) and a
scrape sums every process's files. Job counts and the queue are not per process at
all: ``JobGauges`` reads them from the database at scrape time, so any process
answers the same.

The metric objects are created on first use, not at import: the multiprocess
switch must happen before any value exists.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import JOB_STATUSES, QUEUED, RUNNING, Job, utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_lock = threading.Lock()
_metrics: SimpleNamespace | None = None
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_RUN = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
_ROWS = (10, 100, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000)


def use_multiprocess_dir(path: str) -> None:
    """Switch prometheus_client to multiprocess mode, sharing ``path`` (call it in
    the parent before forking workers, before any metric exists)."""
    if _metrics is not None:
        raise RuntimeError("metrics already in use: switch to multiprocess first")
    # The library's own switch is this variable (read when a value is created).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    values.ValueClass = values.get_value_class()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_exited(pid: int) -> None:
    """Gunicorn's child_exit: forget a dead worker's live gauges."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


def m() -> SimpleNamespace:
    """The metric objects of this process, created once."""
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                _metrics = _create()
    return _metrics


def _create() -> SimpleNamespace:
    return SimpleNamespace(
        requests=Counter(
            "ade_http_requests_total",
            "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"],
        ),
        latency=Histogram(
            "ade_http_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint and status.",
            ["endpoint", "method", "status"],
            buckets=_LATENCY,
        ),
        runs=Counter(
            "ade_job_runs_total",
            "Job runs finished (run here, or received from a stateless worker).",
            ["status"],
        ),
        run_seconds=Histogram(
            "ade_job_run_seconds", "Duration of a job's sandboxed run.", buckets=_RUN
        ),
        rows_per_second=Histogram(
            "ade_job_rows_per_second",
            "Rows processed per second of a succeeded run.",
            buckets=_ROWS,
        ),
        sandbox_failures=Counter(
            "ade_sandbox_failures_total",
            "Failed runs by reason (time, cpu, memory, output, script, ...).",
            ["reason"],
        ),
        cache=Counter(
            "ade_worker_cache_requests_total",
            "Stateless worker cache look-ups (config trees, documents).",
            ["cache", "result"],
        ),
        git_fetches=Counter(
            "ade_worker_git_fetches_total",
            "git fetches of a config version by a stateless worker.",
        ),
        downloaded=Counter(
            "ade_worker_downloaded_bytes_total",
            "Bytes a stateless worker downloaded (documents; git packs).",
            ["what"],
        ),
        api_seconds=Histogram(
            "ade_worker_api_seconds",
            "Time of a stateless worker's calls to the API, by call.",
            ["call"],
            buckets=_LATENCY,
        ),
    )


# First matching fragment of the sandbox's one-line error wins.
_REASONS = (
    ("cpu time", "cpu"),
    ("time limit", "time"),
    ("memory", "memory"),
    ("process limit", "processes"),
    ("file size", "file_size"),
    ("output limit", "output"),
    ("larger than", "report"),
    ("slots are busy", "busy"),
    ("could not start", "start"),
    ("cannot stage", "stage"),
    ("sandbox unavailable", "unavailable"),
    ("internal error", "internal"),
    ("killed", "killed"),
)


def failure_reason(error: str | None) -> str:
    """A small fixed set of labels for a failed run's error."""
    text = (error or "").lower()
    for fragment, reason in _REASONS:
        if fragment in text:
            return reason
    return "script"


def observe_run(status: str, run_metrics: dict | None, error: str | None) -> None:
    """Count a finished run: status, duration, rows/s, why it failed."""
    metrics = m()
    metrics.runs.labels(status).inc()
    run_metrics = run_metrics or {}
    elapsed = (run_metrics.get("elapsed_ms") or 0) / 1000
    if elapsed > 0:
        metrics.run_seconds.observe(elapsed)
    if status == "succeeded" and elapsed > 0:
        rows = run_metrics.get("rows_processed") or 0
        metrics.rows_per_second.observe(rows / elapsed)
    elif status == "failed":
        metrics.sandbox_failures.labels(failure_reason(error)).inc()


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    metrics = m()
    metrics.requests.labels(endpoint, method, str(status)).inc()
    metrics.latency.labels(endpoint, method, str(status)).observe(seconds)


class timed:
    """``with timed("claim"):`` records a worker's API call time."""

    def __init__(self, call: str):
        self.call = call

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, *_exc):
        m().api_seconds.labels(self.call).observe(time.monotonic() - self.started)


class JobGauges(Collector):
    """Job counts by state and the queue, read from SQL at scrape time."""

    def __init__(self, session: Session, heartbeat_timeout: float):
        self.session, self.timeout = session, heartbeat_timeout

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s, now = self.session, utcnow()
        counts = dict.fromkeys(JOB_STATUSES, 0)
        grouped = s.execute(select(Job.status, func.count()).group_by(Job.status))
        counts.update({status: n for status, n in grouped})
        states = GaugeMetricFamily("ade_jobs", "Jobs by state.", labels=["state"])
        for state, count in counts.items():
            states.add_metric([state], count)
        yield states
        runnable = (Job.status == QUEUED) & (
            Job.available_at.is_(None) | (Job.available_at <= now)
        )
        depth = s.scalar(select(func.count()).where(runnable))
        yield GaugeMetricFamily(
            "ade_jobs_queue_depth", "Queued jobs that may start now.", value=depth
        )
        oldest = s.scalar(select(func.min(Job.created_at)).where(runnable))
        age = (now - oldest).total_seconds() if oldest else 0
        yield GaugeMetricFamily(
            "ade_jobs_oldest_queued_seconds",
            "Age of the oldest runnable queued job (0 when none).",
            value=max(age, 0),
        )
        cutoff = now - timedelta(seconds=self.timeout)
        lapsed = s.scalar(
            select(func.count()).where(Job.status == RUNNING, Job.heartbeat_at < cutoff)
        )
        yield GaugeMetricFamily(
            "ade_jobs_heartbeat_lapsed",
            "Running jobs whose heartbeat lapsed (the reaper requeues them).",
            value=lapsed,
        )


def exposition(gauges: Collector | None = None) -> bytes:
    """This process's (or, in multiprocess mode, every process's) metrics, plus
    ``gauges``, in the Prometheus text format."""
    m()  # the families exist (at zero) even before anything happened
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        text = generate_latest(REGISTRY)
    if gauges is not None:
        extra = CollectorRegistry(auto_describe=False)
        extra.register(gauges)
        text += generate_latest(extra)
    return text
