"""Run one claimed job: prepare its inputs, run the sandbox, beat, record the outcome.

This is the one job-running routine. Where the inputs come from and where the
outcome goes is a ``JobPort``: ``DirectPort`` (``app.jobs.direct``: the database and
the data dir, for the embedded executor and shared-disk workers) or ``HttpPort``
(``app.jobs.http_port``: the API's worker calls and git, for stateless workers).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from app import metrics
from app.jobs.sandbox import run_job_sandbox
from app.models import FAILED, SUCCEEDED
from app.services.claims import Lease
from runner.sandbox import Limits

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1.0  # seconds between progress writes
STOP_POLL = 0.2  # seconds between looks at the executor's stop event during a run


@dataclass(frozen=True)
class Inputs:
    """A claimed job's inputs on this machine: the tag's files and the document."""

    config_dir: Path
    document_path: Path
    flags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a run ends with: the row's new status and the rest of its columns."""

    status: str
    error: str | None = None
    metrics: dict | None = None
    progress: dict | None = None

    def values(self) -> dict:
        values = {"status": self.status, "error": self.error}
        if self.metrics is not None:
            values["metrics"] = self.metrics
        if self.progress is not None:
            values["progress"] = self.progress
        return values


class JobPort(Protocol):
    """Where a run's inputs come from and where its outcome goes."""

    def claim(self, job_id: str) -> Lease | None: ...

    def scratch(self) -> Path | None:
        """Parent of the run's temp dir (None: the system's)."""

    def prepare(self, lease: Lease, workdir: Path) -> Inputs:
        """Fetch or export the job's inputs into/under ``workdir``."""

    def beat(self, lease: Lease, progress: dict | None) -> bool:
        """A heartbeat; False when the run must stop (cancelled, claim lost)."""

    def finish(self, lease: Lease, outcome: Outcome, artifacts: Path | None) -> bool:
        """Record the outcome with the files in ``artifacts``; False if the claim
        was lost meanwhile (nothing is recorded then)."""

    def give_back(self, lease: Lease) -> bool:
        """Queue the job again because this worker is stopping."""


@dataclass(frozen=True)
class RunSettings:
    limits: Limits
    heartbeat_seconds: float


class _Heartbeat(threading.Thread):
    """Beats while the run lasts; sets ``cancel`` when the port says stop or the
    executor is stopping (``stop``)."""

    def __init__(self, port, lease, period, cancel, stop=None):
        super().__init__(daemon=True, name=f"heartbeat-{lease.job_id[:8]}")
        self.port, self.lease, self.period = port, lease, period
        self.cancel, self.stop = cancel, stop
        self.done = threading.Event()
        self.progress: dict | None = None

    def run(self) -> None:
        period = min(self.period, PROGRESS_EVERY)
        next_beat = time.monotonic() + period
        while not self.done.wait(min(period, STOP_POLL)):
            if self.stop is not None and self.stop.is_set():
                self.cancel.set()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + period
                try:
                    if not self.port.beat(self.lease, self.progress):
                        self.cancel.set()  # cancelled, or reaped and given away
                except Exception:  # noqa: BLE001 - a hiccup must not kill the run
                    log.warning("heartbeat failed", exc_info=True)


def run_claimed(
    port: JobPort,
    lease: Lease,
    settings: RunSettings,
    stop: threading.Event | None = None,
) -> Outcome | None:
    """Execute a job this worker has claimed; never raises. When ``stop`` is set
    meanwhile (the executor is shutting down) the run is killed and given back.
    Returns the outcome recorded (None when nothing was)."""
    try:
        return _run(port, lease, settings, stop)
    except Exception as exc:  # noqa: BLE001 - record, never crash the executor
        log.exception("job %s crashed", lease.job_id)
        outcome = Outcome(FAILED, error=f"internal error: {exc}")
        try:
            return outcome if port.finish(lease, outcome, None) else None
        except Exception:  # noqa: BLE001 - the reaper will retry the job
            log.exception("could not record the failure of job %s", lease.job_id)
            return None


def _run(port, lease, settings, stop) -> Outcome | None:
    cancel = threading.Event()
    beat = _Heartbeat(port, lease, settings.heartbeat_seconds, cancel, stop)
    with tempfile.TemporaryDirectory(prefix="ade-job-", dir=port.scratch()) as tmp:
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        beat.start()
        try:
            inputs = port.prepare(lease, Path(tmp))
            result = run_job_sandbox(
                inputs.config_dir,
                inputs.document_path,
                out_dir / "output.xlsx",
                settings.limits,
                sample_rows=inputs.flags.get("sample_rows"),
                on_progress=lambda phase, rows: setattr(
                    beat, "progress", {"phase": phase, "rows": rows}
                ),
                cancel=cancel,
            )
        finally:
            beat.done.set()
            beat.join()
        if not result.ok and stop is not None and stop.is_set():
            if port.give_back(lease):
                log.info("job %s queued again: this worker is stopping", lease.job_id)
                return None
        outcome = _outcome(result, out_dir)
        metrics.observe_run(outcome.status, outcome.metrics, outcome.error)
        return outcome if port.finish(lease, outcome, out_dir) else None


def _outcome(result, out_dir: Path) -> Outcome:
    """The row's outcome; the report and logs written next to the output."""
    # Script logs (ctx.log) first, then whatever the worker printed.
    lines = list((result.report or {}).get("logs") or []) + list(result.logs)
    (out_dir / "logs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if result.report is not None:
        (out_dir / "report.json").write_text(
            json.dumps(result.report, indent=1, sort_keys=False), encoding="utf-8"
        )
    run_metrics = dict((result.report or {}).get("metrics") or {})
    run_metrics["max_rss_bytes"] = result.max_rss_bytes
    run_metrics.setdefault("elapsed_ms", result.elapsed_ms)
    if result.ok:
        rows = run_metrics.get("rows_processed", 0)
        progress = {"phase": "done", "rows": rows}
        return Outcome(SUCCEEDED, metrics=run_metrics, progress=progress)
    return Outcome(FAILED, error=result.error, metrics=run_metrics)
