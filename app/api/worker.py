"""Worker calls: a stateless worker claims, beats, fetches and finishes over HTTP.

Only a worker token may call these (``ade token create --worker``), and a worker
token may call nothing else (``app.services.access.check_surface``).
"""

from __future__ import annotations

from flask import current_app, request, send_file

from app.extensions import Blueprint
from app.schemas.jobs import JobSchema
from app.schemas.problem import documented_errors
from app.schemas.worker import (
    ClaimedSchema,
    ClaimSchema,
    FinishFilesSchema,
    FinishFormSchema,
    HeartbeatAnswerSchema,
    HeartbeatSchema,
)
from app.services import worker as service
from app.web import request_context

bp = Blueprint("worker", __name__, url_prefix="/api/v1/worker")
errors = documented_errors(bp)
FILE_FIELDS = {"output": "output.xlsx", "report": "report.json", "logs": "logs.txt"}


@bp.before_request
def _limit_body():
    # A finish carries the run's files; each is checked against its own bound.
    if request.method == "POST" and request.path.endswith(":finish"):
        limits = service.upload_limits(request_context())
        request.max_content_length = sum(limits.values()) + 64 * 1024
    else:
        request.max_content_length = current_app.config["MAX_REQUEST_BYTES"]


@bp.post("/jobs/<job_id>:claim")
@bp.arguments(ClaimSchema)
@bp.response(200, ClaimedSchema)
@errors(403, 404, 409)
def claim_job(data, job_id):
    """Claim a queued job (the same conditional update as every executor)."""
    return service.claim(request_context(), job_id, data["worker"])


@bp.post("/jobs/<job_id>:heartbeat")
@bp.arguments(HeartbeatSchema)
@bp.response(200, HeartbeatAnswerSchema)
@errors(403, 404)
def heartbeat(data, job_id):
    """Beat with progress; the answer says whether to go on or was cancelled."""
    return service.heartbeat(
        request_context(), job_id, data["claim_id"], data["progress"]
    )


@bp.get("/jobs/<job_id>/documents/<sha256>")
@bp.response(
    200, {"format": "binary", "type": "string"}, content_type="application/octet-stream"
)
@errors(403, 404)
def job_document(job_id, sha256):
    """The claimed job's document bytes, by sha256 (streamed)."""
    path = service.document(request_context(), job_id, sha256)
    return send_file(path, mimetype="application/octet-stream", etag=sha256)


@bp.post("/jobs/<job_id>:finish")
@bp.arguments(FinishFormSchema, location="form")
@bp.arguments(FinishFilesSchema, location="files")
@bp.response(200, JobSchema)
@errors(403, 404, 409, 413)
def finish_job(form, files, job_id):
    """Record the outcome with the output, report and logs (multipart); 409 when
    this worker no longer holds the job."""
    streams = {FILE_FIELDS[k]: f.stream for k, f in files.items() if k in FILE_FIELDS}
    return service.finish(
        request_context(), job_id, form["claim_id"], form["result"], streams
    )
