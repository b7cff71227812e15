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


@bp.post("/configs/<config_id>/draft:dry-run")
@bp.arguments(DryRunSchema)
@bp.response(200, DryRunResultSchema)
@bp.problems(403, described={404: "No such workspace, config or document."})
@rate_limited(bp, "dry_run")
def dry_run_draft(data, ws, config_id):
    """Run the draft on a document in the sandbox and return the report."""
    ctx = request_context()
    workspace, config = access.workspace_and_config(ctx, ws, config_id, "author")
    return service.dry_run(
        ctx, workspace, config, data["documentId"], data.get("sample_rows")
    )


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
