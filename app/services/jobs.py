"""Submitting, listing, reading and cancelling jobs, and what a job runs on."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.models import (
    CANCELLED,
    DEPRECATED,
    PUBLISHED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    Config,
    ConfigVersion,
    Document,
    Job,
    Workspace,
    utcnow,
)
from app.services.context import Context
from app.services.documents import document_path, get_document
from app.services.errors import Conflict, Invalid, NotFound
from runner.sandbox import Limits

# Flags that steer the service rather than the run: they do not change the output,
# so they stay out of the run_key (a forced rerun has the same key as the original).
CONTROL_FLAGS = frozenset({"force"})
RESOURCE_VERSIONS = ""  # v1: no external resources
ARTIFACTS = ("output.xlsx", "report.json", "logs.txt")


def run_key(doc_sha256: str, files_hash: str, flags: dict) -> str:
    """sha256(doc_sha256 | files_hash | canonical-json(flags) | resource_versions)."""
    run_flags = {k: v for k, v in flags.items() if k not in CONTROL_FLAGS}
    canonical = json.dumps(run_flags, sort_keys=True, separators=(",", ":"))
    material = "|".join((doc_sha256, files_hash, canonical, RESOURCE_VERSIONS))
    return hashlib.sha256(material.encode()).hexdigest()


def _version_in(ctx: Context, workspace: Workspace, version_id: str) -> ConfigVersion:
    version = ctx.session.get(ConfigVersion, version_id)
    if version is not None:
        config = ctx.session.get(Config, version.config_id)
        if config is not None and config.workspace_id == workspace.id:
            if version.status not in (PUBLISHED, DEPRECATED):
                raise Invalid(
                    "Jobs run published versions only; publish the draft first.",
                    errors={"config_version_id": ["must be a published version"]},
                )
            return version
    raise NotFound(f"Config version {version_id!r} not found.")


def _reusable(ctx: Context, workspace: Workspace, key: str) -> Job | None:
    return ctx.session.scalar(
        select(Job)
        .where(
            Job.workspace_id == workspace.id,
            Job.run_key == key,
            Job.status == SUCCEEDED,
        )
        .order_by(Job.finished_at.desc())
        .limit(1)
    )


def submit(
    ctx: Context,
    workspace: Workspace,
    config_version_id: str,
    input_document_id: str,
    flags: dict,
) -> tuple[Job, bool]:
    """Queue a job and wake a worker for it, or return the succeeded job with the
    same run_key (``reused`` True) unless ``flags.force``."""
    version = _version_in(ctx, workspace, config_version_id)
    document = get_document(ctx, workspace, input_document_id)
    key = run_key(document.sha256, version.files_hash, flags)
    if not flags.get("force"):
        previous = _reusable(ctx, workspace, key)
        if previous is not None:
            return previous, True
    job = Job(
        workspace_id=workspace.id,
        config_version_id=version.id,
        input_document_id=document.id,
        run_key=key,
        flags=flags,
        status=QUEUED,
        attempts=0,
    )
    ctx.session.add(job)
    ctx.session.commit()
    if ctx.executor is not None:
        # The row is the queue's truth: a lost wake-up only delays the job until a
        # worker polls (local) or the reaper sends it again (Celery).
        ctx.executor.submit(job.id)
    return job, False


def list_jobs(
    ctx: Context,
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
        ctx.session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit))
    )


def get_job(ctx: Context, workspace: Workspace, job_id: str) -> Job:
    job = ctx.session.get(Job, job_id)
    if job is None or job.workspace_id != workspace.id:
        raise NotFound(f"Job {job_id!r} not found.")
    return job


def cancel(ctx: Context, workspace: Workspace, job_id: str) -> Job:
    """Cancel a queued or running job (a running sandbox is killed within a beat)."""
    job = get_job(ctx, workspace, job_id)
    if job.status not in (QUEUED, RUNNING):
        raise Conflict(f"The job is already {job.status}; it cannot be cancelled.")
    job.status = CANCELLED
    job.finished_at = utcnow()
    job.error = "cancelled by request"
    ctx.session.commit()
    return job


def job_dir(data_dir: Path, job_id: str) -> Path:
    """Where a job's artifacts (``ARTIFACTS``) are written."""
    return data_dir / "jobs" / job_id


def install_artifacts(source: Path | None, target: Path) -> None:
    """Move a run's files into the job's dir (rename: readers see whole files);
    an artifact this run did not produce is removed, not left from an earlier one."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACTS:
        src = None if source is None else source / name
        if src is not None and src.is_file():
            os.replace(src, target / name)
        else:
            (target / name).unlink(missing_ok=True)


def job_limits(settings: Mapping[str, Any]) -> Limits:
    """A job's sandbox limits from the settings (``ADE_SANDBOX_*``); they also
    bound what a stateless worker may upload as the run's outcome."""
    return Limits(
        cpu_seconds=settings["SANDBOX_CPU_SECONDS"],
        wall_seconds=settings["SANDBOX_WALL_SECONDS"],
        memory_bytes=settings["SANDBOX_MEMORY_BYTES"],
        report_bytes=settings["SANDBOX_REPORT_BYTES"],
    )


def artifact(ctx: Context, job: Job, name: str) -> Path:
    """Path of a job's output/report/logs; not found until the job produced it."""
    path = job_dir(ctx.data_dir, job.id) / name
    if not path.is_file():
        if job.status in (QUEUED, RUNNING):
            raise Conflict(f"The job is {job.status}; its {name} is not ready yet.")
        raise NotFound(f"This job has no {name}.")
    return path


@dataclass(frozen=True)
class JobInputs:
    """What a claimed job runs: a version's tag of one config, on one document."""

    workspace_id: str
    config_id: str
    tag: str
    files_hash: str
    document_path: Path
    document_sha256: str
    flags: dict


def inputs_of(ctx: Context, job_id: str) -> JobInputs:
    """The inputs of job ``job_id`` (always the tag: the draft may have moved)."""
    job = ctx.session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job {job_id!r} not found.")
    version = ctx.session.get(ConfigVersion, job.config_version_id)
    config = ctx.session.get(Config, version.config_id)
    document = ctx.session.get(Document, job.input_document_id)
    return JobInputs(
        workspace_id=config.workspace_id,
        config_id=config.id,
        tag=f"v{version.semver}",
        files_hash=version.files_hash,
        document_path=document_path(ctx, document),
        document_sha256=document.sha256,
        flags=dict(job.flags or {}),
    )
