"""Dry-run of the draft on an uploaded document, and the run's downloads."""

from __future__ import annotations

from flask import send_file

from app.extensions import Blueprint
from app.limits import rate_limited
from app.schemas.jobs import DryRunResultSchema, DryRunSchema
from app.services import access
from app.services import dryrun as service
from app.services.dryrun_store import OUTPUT, REPORT
from app.web import request_context

bp = Blueprint("dryrun", __name__, url_prefix="/api/v1/workspaces/<ws>")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCATION = {
    "Location": {
        "description": "The run's status: GET it until status is succeeded or failed.",
        "schema": {"type": "string"},
    }
}


@bp.post("/configs/<config_id>/draft:dry-run")
@bp.arguments(DryRunSchema)
@bp.response(200, DryRunResultSchema)
@bp.alt_response(
    202,
    schema=DryRunResultSchema,
    headers=LOCATION,
    description="Still running after ADE_DRY_RUN_SYNC_SECONDS: the run's status "
    "(queued or running, with progress); poll Location until it has finished.",
    success=True,
)
@bp.problems(403, described={404: "No such workspace, config or document."})
@rate_limited(
    bp,
    "dry_run",
    "Too many dry-run requests from this token, or too many of its (or its "
    "workspace's) dry runs in flight; retry after Retry-After.",
)
def dry_run_draft(data, ws, config_id):
    """Run the draft on a document in the sandbox: the report, or 202 to poll."""
    ctx = request_context()
    workspace, config = access.workspace_and_config(ctx, ws, config_id, "author")
    answer = service.dry_run(
        ctx, workspace, config, data["documentId"], data.get("sample_rows")
    )
    if service.is_finished(answer):
        return answer
    return answer, 202, {"Location": service.status_url(workspace, answer["id"])}


@bp.get("/dry-runs/<run_id>")
@bp.response(200, DryRunResultSchema)
def dry_run_status(ws, run_id):
    """A dry run's status and progress; once finished, its report (as the POST)."""
    ctx = request_context()
    return service.run_status(ctx, access.workspace(ctx, ws), run_id)


@bp.get("/dry-runs/<run_id>/output")
@bp.download(XLSX)
def dry_run_output(ws, run_id):
    """Download a recent dry run's normalized workbook (kept for a while)."""
    ctx = request_context()
    path = service.run_artifact(ctx, access.workspace(ctx, ws), run_id, OUTPUT)
    return send_file(
        path, mimetype=XLSX, as_attachment=True, download_name=f"dry-run-{run_id}.xlsx"
    )


@bp.get("/dry-runs/<run_id>/report")
@bp.download("application/json", {"type": "object"})
def dry_run_report(ws, run_id):
    """A recent dry run's report (JSON, as the dry run answered it)."""
    ctx = request_context()
    path = service.run_artifact(ctx, access.workspace(ctx, ws), run_id, REPORT)
    return send_file(
        path,
        mimetype="application/json",
        as_attachment=True,
        download_name=f"dry-run-{run_id}.json",
    )
