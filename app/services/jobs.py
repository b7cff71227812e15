"""Submitting, listing, reading and cancelling jobs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import BadRequest, Conflict, NotFound
from app.models import Config, ConfigVersion, Job, Workspace, utcnow
from app.services.documents import get_document

# Flags that steer the service rather than the run: they do not change the output,
# so they stay out of the run_key (a forced rerun has the same key as the original).
CONTROL_FLAGS = frozenset({"force"})
RESOURCE_VERSIONS = ""  # v1: no external resources


def run_key(doc_sha256: str, files_hash: str, flags: dict) -> str:
    """sha256(doc_sha256 | files_hash | canonical-json(flags) | resource_versions)."""
    run_flags = {k: v for k, v in flags.items() if k not in CONTROL_FLAGS}
    canonical = json.dumps(run_flags, sort_keys=True, separators=(",", ":"))
    material = "|".join((doc_sha256, files_hash, canonical, RESOURCE_VERSIONS))
    return hashlib.sha256(material.encode()).hexdigest()


def _version_in(
    session: Session, workspace: Workspace, version_id: str
) -> ConfigVersion:
    version = session.get(ConfigVersion, version_id)
    if version is not None:
        config = session.get(Config, version.config_id)
        if config is not None and config.workspace_id == workspace.id:
            if version.status not in ("published", "deprecated"):
                raise BadRequest(
                    "Jobs run published versions only; publish the draft first.",
                    errors={"config_version_id": ["must be a published version"]},
                )
            return version
    raise NotFound(f"Config version {version_id!r} not found.")


def submit(
    session: Session,
    workspace: Workspace,
    config_version_id: str,
    input_document_id: str,
    flags: dict,
) -> tuple[Job, bool]:
    """Queue a job, or return the succeeded job with the same run_key (reused=True)."""
    version = _version_in(session, workspace, config_version_id)
    document = get_document(session, workspace, input_document_id)
    key = run_key(document.sha256, version.files_hash, flags)
    if not flags.get("force"):
        previous = session.scalar(
            select(Job)
            .where(
                Job.workspace_id == workspace.id,
                Job.run_key == key,
                Job.status == "succeeded",
            )
            .order_by(Job.finished_at.desc())
            .limit(1)
        )
        if previous is not None:
            return previous, True
    job = Job(
        workspace_id=workspace.id,
        config_version_id=version.id,
        input_document_id=document.id,
        run_key=key,
        flags=flags,
        status="queued",
        attempts=0,
    )
    session.add(job)
    session.commit()
    return job, False


def list_jobs(
    session: Session,
    workspace: Workspace,
    status: str | None = None,
    config_id: str | None = None,
    limit: int = 100,
) -> list[Job]:
    query = select(Job).where(Job.workspace_id == workspace.id)
    if status:
        query = query.where(Job.status == status)
    if config_id:
        query = query.join(ConfigVersion, ConfigVersion.id == Job.config_version_id)
        query = query.where(ConfigVersion.config_id == config_id)
    return list(
        session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit))
    )


def get_job(session: Session, workspace: Workspace, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.workspace_id != workspace.id:
        raise NotFound(f"Job {job_id!r} not found.")
    return job


def cancel(session: Session, workspace: Workspace, job_id: str) -> Job:
    """Cancel a queued or running job (a running sandbox is killed within a beat)."""
    job = get_job(session, workspace, job_id)
    if job.status not in ("queued", "running"):
        raise Conflict(f"The job is already {job.status}; it cannot be cancelled.")
    job.status = "cancelled"
    job.finished_at = utcnow()
    job.error = "cancelled by request"
    session.commit()
    return job


def artifact(data_dir: Path, job: Job, name: str) -> Path:
    """Path of a job's output/report/logs; 404 until the job produced it."""
    path = data_dir / "jobs" / job.id / name
    if not path.is_file():
        if job.status in ("queued", "running"):
            raise Conflict(f"The job is {job.status}; its {name} is not ready yet.")
        raise NotFound(f"This job has no {name}.")
    return path
