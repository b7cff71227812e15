"""Jobs: submit a published version on a document, follow it, fetch its outputs."""

from __future__ import annotations

from flask import send_file

from app.extensions import Blueprint
from app.limits import rate_limited
from app.schemas.jobs import JobCreateSchema, JobQuerySchema, JobSchema
from app.services import access
from app.services import jobs as service
from app.web import request_context

bp = Blueprint("jobs", __name__, url_prefix="/api/v1/workspaces/<ws>/jobs")
NOT_READY = "The job has not finished: its outputs are not there yet."
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.post("")
@bp.arguments(JobCreateSchema)
@bp.response(202, JobSchema)
@bp.alt_response(
    200, schema=JobSchema, description="A succeeded job with the same run_key (reused)."
)
@bp.problems(
    403,
    described={
        400: "Invalid: the body, or a config_version_id that names a draft.",
        404: "No such workspace, version or document.",
    },
)
@rate_limited(bp, "jobs")
def submit_job(data, ws):
    """Queue a job (or reuse the succeeded job with the same run_key)."""
    ctx = request_context()
    job, reused = service.submit(ctx, access.workspace(ctx, ws, "author"), **data)
    if reused:
        job.reused = True  # transient attribute, dumped by JobSchema
        return job, 200
    return job


@bp.get("")
@bp.arguments(JobQuerySchema, location="query")
@bp.response(200, JobSchema(many=True))
def list_jobs(query, ws):
    """List jobs, newest first (filter by status or config)."""
    ctx = request_context()
    return service.list_jobs(ctx, access.workspace(ctx, ws), **query)


@bp.get("/<job_id>")
@bp.response(200, JobSchema)
def get_job(ws, job_id):
    """Get a job: status, attempts, progress, metrics, error."""
    ctx = request_context()
    return service.get_job(ctx, access.workspace(ctx, ws), job_id)


@bp.post("/<job_id>:cancel")
@bp.response(200, JobSchema)
@bp.problems(403, described={409: "The job has finished: it cannot be cancelled."})
def cancel_job(ws, job_id):
    """Cancel a queued or running job."""
    ctx = request_context()
    return service.cancel(ctx, access.workspace(ctx, ws, "author"), job_id)


def _artifact(ws, job_id, name, mimetype, download_name=None):
    ctx = request_context()
    job = service.get_job(ctx, access.workspace(ctx, ws), job_id)
    return send_file(
        service.artifact(ctx, job, name),
        mimetype=mimetype,
        as_attachment=download_name is not None,
        download_name=download_name,
    )


@bp.get("/<job_id>/output")
@bp.download(XLSX)
@bp.problems(described={409: NOT_READY})
def job_output(ws, job_id):
    """Download the normalized workbook."""
    return _artifact(ws, job_id, "output.xlsx", XLSX, f"job-{job_id}.xlsx")


@bp.get("/<job_id>/report")
@bp.download("application/json", {"type": "object"})
@bp.problems(described={409: NOT_READY})
def job_report(ws, job_id):
    """The run's JSON report (SPEC §7)."""
    return _artifact(ws, job_id, "report.json", "application/json")


@bp.get("/<job_id>/logs")
@bp.download("text/plain", {"type": "string"})
@bp.problems(described={409: NOT_READY})
def job_logs(ws, job_id):
    """The run's logs as text."""
    # send_file adds "; charset=utf-8" to text/* types itself.
    return _artifact(ws, job_id, "logs.txt", "text/plain")
