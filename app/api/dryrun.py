"""Dry-run of the draft on an uploaded document."""

from __future__ import annotations

from app.extensions import Blueprint
from app.limits import rate_limited
from app.schemas.jobs import DryRunResultSchema, DryRunSchema
from app.services import access
from app.services.dryrun import dry_run
from app.web import request_context

bp = Blueprint("dryrun", __name__, url_prefix="/api/v1/workspaces/<ws>/configs")


@bp.post("/<config_id>/draft:dry-run")
@bp.arguments(DryRunSchema)
@bp.response(200, DryRunResultSchema)
@rate_limited(bp, "dry_run")
def dry_run_draft(data, ws, config_id):
    """Run the draft on a document in the sandbox and return the report."""
    ctx = request_context()
    workspace = access.workspace(ctx, ws, "author")
    config = access.config(ctx, workspace, config_id)
    return dry_run(ctx, workspace, config, data["documentId"], data.get("sample_rows"))
