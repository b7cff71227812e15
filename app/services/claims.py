"""The job row as a queue: claim, beat, finish, give back, reap.

Every executor goes through these conditional updates, whether it holds the
database itself (the embedded executor, shared-disk Celery workers) or asks the API
to run them for it (stateless workers, ``app.services.worker``). A claim is a fresh
random id per attempt; a heartbeat, a finish or a give-back must name it, so a run
whose claim was reaped and handed to another worker can write nothing any more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import FAILED, QUEUED, RUNNING, Job, utcnow


@dataclass(frozen=True)
class Lease:
    """What a worker holds while it runs a job."""

    job_id: str
    claim_id: str
    attempt: int


def _runnable(now: datetime):
    return (Job.available_at.is_(None)) | (Job.available_at <= now)


def claim(
    session: Session, job_id: str, worker: str, token_id: str | None = None
) -> Lease | None:
    """Move a queued, runnable job to running for ``worker``; None if someone else
    has it (or it is not runnable yet). ``token_id``: the worker token claiming."""
    now, claim_id = utcnow(), uuid.uuid4().hex
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == QUEUED)
        .where(_runnable(now))
        .values(
            status=RUNNING,
            attempts=Job.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            worker=worker[:200],
            claim_id=claim_id,
            claimed_by=token_id,
            progress={"phase": "starting", "rows": 0},
            error=None,
        )
    )
    session.commit()
    if result.rowcount != 1:
        return None
    attempt = session.scalar(select(Job.attempts).where(Job.id == job_id))
    return Lease(job_id, claim_id, attempt or 1)


def runnable_ids(session: Session, limit: int = 5) -> list[str]:
    """The oldest queued jobs that may start now."""
    return list(
        session.scalars(
            select(Job.id)
            .where(Job.status == QUEUED)
            .where(_runnable(utcnow()))
            .order_by(Job.created_at, Job.id)
            .limit(limit)
        )
    )


def _held(lease: Lease):
    return (
        Job.id == lease.job_id,
        Job.status == RUNNING,
        Job.claim_id == lease.claim_id,
    )


def beat(session: Session, lease: Lease, progress: dict | None) -> bool:
    """Record a heartbeat (and progress); False when the claim is no longer held
    (cancelled, or reaped and given to another worker)."""
    values = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    result = session.execute(update(Job).where(*_held(lease)).values(**values))
    session.commit()
    return result.rowcount == 1


def finish(
    session: Session,
    lease: Lease,
    values: dict,
    install: Callable[[], None] | None = None,
) -> bool:
    """Write the outcome only while ``lease`` still holds the job. ``install``
    (moving the artifacts into place) runs between the update and the commit, with
    the row locked, so a reaper can never see the outcome without its files nor
    take the job over in between. False (and nothing written) if the claim is lost."""
    result = session.execute(
        update(Job).where(*_held(lease)).values(finished_at=utcnow(), **values)
    )
    if result.rowcount != 1:
        session.rollback()
        return False
    try:
        if install is not None:
            install()
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return True


def give_back(session: Session, lease: Lease) -> bool:
    """Queue a job again at once because its worker is stopping; the interrupted
    attempt does not count."""
    result = session.execute(
        update(Job)
        .where(*_held(lease))
        .values(
            status=QUEUED,
            attempts=Job.attempts - 1,
            started_at=None,
            heartbeat_at=None,
            worker=None,
            claim_id=None,
            claimed_by=None,
            progress=None,
            available_at=None,
        )
    )
    session.commit()
    return result.rowcount == 1


def reap(session: Session, timeout: float, max_attempts: int) -> list[str]:
    """Requeue (with backoff) or fail running jobs whose heartbeat lapsed; safe to
    run in several processes at once (each row changes under its own guard)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=timeout)
    changed = []
    lapsed = session.execute(
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
        if attempts >= max_attempts:
            values = dict(
                status=FAILED,
                finished_at=now,
                claim_id=None,
                error=f"the worker running this job stopped responding "
                f"{attempts} time(s); giving up",
            )
        else:
            values = dict(
                status=QUEUED,
                available_at=now + timedelta(seconds=min(2**attempts, 60)),
                worker=None,
                claim_id=None,
                claimed_by=None,
                error=f"attempt {attempts} lost its worker; retrying",
            )
        if session.execute(update(Job).where(*guard).values(**values)).rowcount:
            changed.append(job_id)
    session.commit()
    return changed


def wake_delays(session: Session, job_ids: list[str]) -> dict[str, float]:
    """For reaped jobs that are queued again: seconds until each may start."""
    now, delays = utcnow(), {}
    for job_id, available_at in session.execute(
        select(Job.id, Job.available_at).where(
            Job.id.in_(job_ids), Job.status == QUEUED
        )
    ):
        delays[job_id] = (
            max((available_at - now).total_seconds(), 0) if available_at else 0
        )
    return delays
