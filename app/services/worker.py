"""The calls of a stateless job worker (``/api/v1/worker/...``): claim, heartbeat,
fetch the claimed job's document, finish. The API runs the same conditional
updates on the worker's behalf as the embedded executor runs itself
(``app.services.claims``); a worker token sees only the jobs it holds.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app import metrics
from app.models import (
    CANCELLED,
    RUNNING,
    Config,
    ConfigVersion,
    Document,
    Job,
    Workspace,
)
from app.services import claims
from app.services.claims import Lease
from app.services.context import Context
from app.services.documents import blob_path
from app.services.errors import Conflict, NotFound, NotPermitted, TooLarge
from app.services.jobs import install_artifacts, job_dir, job_limits

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to run the job it claimed."""

    job_id: str
    claim_id: str
    attempt: int
    git_path: str  # /git/<ws_slug>/<config_slug>.git, relative to the API's URL
    tag: str
    files_hash: str
    document_sha256: str
    document_size: int
    flags: dict


def _worker(ctx: Context):
    principal = ctx.caller()
    if not principal.is_worker:
        raise NotPermitted("Only a worker token may make worker calls.")
    return principal


def claim(ctx: Context, job_id: str, worker_name: str) -> Claimed:
    """Claim a queued job for the calling worker (the same conditional update as
    every executor's); 409 when it is not queued or not runnable yet."""
    principal = _worker(ctx)
    session = ctx.session
    if session.get(Job, job_id) is None:
        raise NotFound(f"Job {job_id!r} not found.")
    lease = claims.claim(session, job_id, worker_name, principal.token_id)
    if lease is None:
        raise Conflict("The job is not queued (or not runnable yet); nothing to run.")
    job = session.get(Job, job_id)
    version = session.get(ConfigVersion, job.config_version_id)
    config = session.get(Config, version.config_id)
    workspace = session.get(Workspace, config.workspace_id)
    document = session.get(Document, job.input_document_id)
    return Claimed(
        job_id=job.id,
        claim_id=lease.claim_id,
        attempt=lease.attempt,
        git_path=f"/git/{workspace.slug}/{config.slug}.git",
        tag=f"v{version.semver}",
        files_hash=version.files_hash,
        document_sha256=document.sha256,
        document_size=document.size,
        flags=dict(job.flags or {}),
    )


def _held_by_caller(ctx: Context, job_id: str) -> Job:
    """A running job the caller's token holds; not found otherwise."""
    principal = _worker(ctx)
    job = ctx.session.get(Job, job_id)
    if job is None or job.status != RUNNING or job.claimed_by != principal.token_id:
        raise NotFound(f"Job {job_id!r} not found among this worker's jobs.")
    return job


def heartbeat(
    ctx: Context, job_id: str, claim_id: str, progress: dict | None
) -> dict[str, bool]:
    """Record a beat; the answer says whether to keep running and, if not,
    whether the job was cancelled (else the claim was lost to the reaper)."""
    _worker(ctx)
    job = ctx.session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job {job_id!r} not found.")
    if claims.beat(ctx.session, Lease(job_id, claim_id, 0), progress):
        return {"keep_running": True, "cancelled": False}
    ctx.session.refresh(job)
    cancelled = job.status == CANCELLED and job.claim_id == claim_id
    return {"keep_running": False, "cancelled": cancelled}


def document(ctx: Context, job_id: str, sha256: str) -> Path:
    """The bytes of the running job's document, by its sha256."""
    job = _held_by_caller(ctx, job_id)
    doc = ctx.session.get(Document, job.input_document_id)
    if doc is None or doc.sha256 != sha256:
        raise NotFound(f"Document {sha256!r} is not this job's.")
    return blob_path(ctx.data_dir, doc.sha256)


def upload_limits(ctx: Context) -> dict[str, int]:
    """The largest file of each artifact a finish may carry."""
    limits = job_limits(ctx.settings)
    return {
        "output.xlsx": limits.file_bytes,
        "report.json": limits.report_bytes,
        "logs.txt": limits.report_bytes + limits.log_bytes,
    }


def _stage(stream: IO[bytes], dest: Path, limit: int, name: str) -> None:
    size = 0
    with open(dest, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"{name} is larger than {limit} bytes.")
            out.write(chunk)


def finish(
    ctx: Context,
    job_id: str,
    claim_id: str,
    result: dict,
    files: dict[str, IO[bytes]],
) -> Job:
    """Record a run's outcome and its files, only while ``claim_id`` still holds
    the job: a claim lost to the reaper (or a cancel) makes this a conflict that
    changes nothing."""
    _worker(ctx)
    job = ctx.session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job {job_id!r} not found.")
    limits = upload_limits(ctx)
    tmp_root = ctx.data_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f"finish-{uuid.uuid4().hex[:8]}-", dir=tmp_root)
    )
    try:
        for name, stream in files.items():
            _stage(stream, staging / name, limits[name], name)
        values = {k: v for k, v in result.items() if v is not None or k == "error"}
        target = job_dir(ctx.data_dir, job_id)
        held = claims.finish(
            ctx.session,
            Lease(job_id, claim_id, 0),
            values,
            lambda: install_artifacts(staging, target),
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not held:
        raise Conflict(
            "This worker no longer holds the job (cancelled, or retried elsewhere "
            "after its heartbeat lapsed); the outcome was not recorded."
        )
    metrics.observe_run(result["status"], result.get("metrics"), result.get("error"))
    ctx.session.refresh(job)
    return job
