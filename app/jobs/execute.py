"""Claim one job, run its published version in the sandbox, record the outcome."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from app.jobs.runtime import JobRuntime
from app.models import FAILED, QUEUED, RUNNING, SUCCEEDED, Job, utcnow
from app.services.jobs import inputs_of
from runner.sandbox import run_sandboxed

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1.0  # seconds between progress writes
STOP_POLL = 0.2  # seconds between looks at the executor's stop event during a run


def claim(rt: JobRuntime, job_id: str) -> bool:
    """Move a queued job to running for this worker; False if someone else has it."""
    now = utcnow()
    with rt.sessions() as s:
        result = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == QUEUED)
            .where((Job.available_at.is_(None)) | (Job.available_at <= now))
            .values(
                status=RUNNING,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                worker=rt.worker_name,
                progress={"phase": "starting", "rows": 0},
                error=None,
            )
        )
        s.commit()
        return result.rowcount == 1


def next_queued(rt: JobRuntime) -> str | None:
    """Claim the oldest runnable queued job, or return None."""
    now = utcnow()
    with rt.sessions() as s:
        ids = s.scalars(
            select(Job.id)
            .where(Job.status == QUEUED)
            .where((Job.available_at.is_(None)) | (Job.available_at <= now))
            .order_by(Job.created_at, Job.id)
            .limit(5)
        ).all()
    for job_id in ids:
        if claim(rt, job_id):
            return job_id
    return None


def _finish(rt: JobRuntime, job_id: str, **values) -> bool:
    """Record the outcome unless the job was cancelled (or taken over) meanwhile."""
    with rt.sessions() as s:
        result = s.execute(
            update(Job)
            .where(
                Job.id == job_id, Job.status == RUNNING, Job.worker == rt.worker_name
            )
            .values(finished_at=utcnow(), **values)
        )
        s.commit()
        return result.rowcount == 1


def _requeue(rt: JobRuntime, job_id: str) -> bool:
    """Give back a job this worker stopped running because it is shutting down: it
    is queued again at once and the interrupted attempt does not count."""
    with rt.sessions() as s:
        result = s.execute(
            update(Job)
            .where(
                Job.id == job_id, Job.status == RUNNING, Job.worker == rt.worker_name
            )
            .values(
                status=QUEUED,
                attempts=Job.attempts - 1,
                started_at=None,
                heartbeat_at=None,
                worker=None,
                progress=None,
                available_at=None,
            )
        )
        s.commit()
        return result.rowcount == 1


class _Heartbeat(threading.Thread):
    """Beats while the run lasts; sets ``cancel`` when the row stops being ours or
    the executor is stopping (``stop``)."""

    def __init__(
        self,
        rt: JobRuntime,
        job_id: str,
        cancel: threading.Event,
        stop: threading.Event | None = None,
    ):
        super().__init__(daemon=True, name=f"heartbeat-{job_id[:8]}")
        self.rt, self.job_id, self.cancel, self.stop = rt, job_id, cancel, stop
        self.done = threading.Event()
        self.progress: dict | None = None

    def run(self) -> None:
        period = min(self.rt.heartbeat_seconds, PROGRESS_EVERY)
        next_beat = time.monotonic() + period
        while not self.done.wait(min(period, STOP_POLL)):
            if self.stop is not None and self.stop.is_set():
                self.cancel.set()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + period
                self.beat()

    def beat(self) -> None:
        values = {"heartbeat_at": utcnow()}
        if self.progress is not None:
            values["progress"] = self.progress
        try:
            with self.rt.sessions() as s:
                result = s.execute(
                    update(Job)
                    .where(
                        Job.id == self.job_id,
                        Job.status == RUNNING,
                        Job.worker == self.rt.worker_name,
                    )
                    .values(**values)
                )
                s.commit()
            if result.rowcount == 0:  # cancelled, or reaped and given to another
                self.cancel.set()
        except Exception:  # noqa: BLE001 - a DB hiccup must not kill the run
            log.warning("heartbeat failed", exc_info=True)


def run_claimed(
    rt: JobRuntime, job_id: str, stop: threading.Event | None = None
) -> None:
    """Execute a job this worker has claimed; never raises. When ``stop`` is set
    meanwhile (the executor is shutting down) the run is killed and requeued."""
    try:
        _run(rt, job_id, stop)
    except Exception as exc:  # noqa: BLE001 - record, never crash the executor
        log.exception("job %s crashed", job_id)
        _finish(rt, job_id, status=FAILED, error=f"internal error: {exc}")


def _run(rt: JobRuntime, job_id: str, stop: threading.Event | None = None) -> None:
    with rt.sessions() as s:
        inputs = inputs_of(rt.context(s), job_id)
    out_dir = rt.job_dir(job_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    cancel = threading.Event()
    beat = _Heartbeat(rt, job_id, cancel, stop)
    beat.start()

    def on_progress(phase: str, rows: int) -> None:
        beat.progress = {"phase": phase, "rows": rows}

    try:
        with tempfile.TemporaryDirectory(prefix="ade-job-") as tmp:
            config_dir = Path(tmp) / "config"
            # Always the tag's files: the draft may have moved since publishing.
            repo = rt.store.open(inputs.workspace_id, inputs.config_id)
            repo.export(inputs.tag, config_dir)
            result = run_sandboxed(
                config_dir,
                inputs.document_path,
                out_dir / "output.xlsx",
                limits=rt.limits,
                sample_rows=inputs.flags.get("sample_rows"),
                on_progress=on_progress,
                cancel=cancel,
            )
    finally:
        beat.done.set()
        beat.join()
    if not result.ok and stop is not None and stop.is_set() and _requeue(rt, job_id):
        log.info("job %s queued again: this worker is stopping", job_id)
        return
    # Script logs (ctx.log) first, then whatever the worker printed.
    lines = list((result.report or {}).get("logs") or []) + list(result.logs)
    (out_dir / "logs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if result.report is not None:
        (out_dir / "report.json").write_text(
            json.dumps(result.report, indent=1, sort_keys=False), encoding="utf-8"
        )
    metrics = dict((result.report or {}).get("metrics") or {})
    metrics["max_rss_bytes"] = result.max_rss_bytes
    if result.ok:
        _finish(
            rt,
            job_id,
            status=SUCCEEDED,
            metrics=metrics,
            progress={"phase": "done", "rows": metrics.get("rows_processed", 0)},
        )
    else:
        _finish(rt, job_id, status=FAILED, error=result.error, metrics=metrics)


def reap(rt: JobRuntime) -> list[str]:
    """Requeue (with backoff) or fail running jobs whose heartbeat lapsed."""
    now = utcnow()
    cutoff = now - timedelta(seconds=rt.heartbeat_timeout)
    changed = []
    with rt.sessions() as s:
        lapsed = s.execute(
            select(Job.id, Job.attempts, Job.heartbeat_at).where(
                Job.status == RUNNING, Job.heartbeat_at < cutoff
            )
        ).all()
        for job_id, attempts, heartbeat_at in lapsed:
            guard = (
                Job.id == job_id,
                Job.status == RUNNING,
                Job.heartbeat_at == heartbeat_at,
            )
            if attempts >= rt.max_attempts:
                values = dict(
                    status=FAILED,
                    finished_at=now,
                    error=f"the worker running this job stopped responding "
                    f"{attempts} time(s); giving up",
                )
            else:
                backoff = min(2**attempts, 60)
                values = dict(
                    status=QUEUED,
                    available_at=now + timedelta(seconds=backoff),
                    worker=None,
                    error=f"attempt {attempts} lost its worker; retrying",
                )
            if s.execute(update(Job).where(*guard).values(**values)).rowcount:
                changed.append(job_id)
        s.commit()
    return changed
