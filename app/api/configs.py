"""Configs of a workspace: list, create, get, delete."""

from __future__ import annotations

from app.auth import current_principal, require_workspace
from app.extensions import Blueprint
from app.schemas.configs import ConfigCreateSchema, ConfigDeleteArgsSchema, ConfigSchema
from app.schemas.problem import documented_errors
from app.services import configs as config_service
from app.services.store import get_config

bp = Blueprint("configs", __name__, url_prefix="/api/v1/workspaces")


_errors = documented_errors(bp)


@bp.get("/<ws>/configs")
@bp.response(200, ConfigSchema(many=True))
@_errors(401, 404)
def list_configs(ws):
    """List the workspace's configs."""
    workspace = require_workspace(ws, "viewer")
    return config_service.list_configs(workspace)


@bp.post("/<ws>/configs")
@bp.arguments(ConfigCreateSchema)
@bp.response(201, ConfigSchema)
@_errors(400, 401, 403, 404, 409)
def create_config(data, ws):
    """Create a config: its repo with a scaffold on the draft (author)."""
    workspace = require_workspace(ws, "author")
    return config_service.create_config(
        workspace, current_principal(), data["slug"], data["title"]
    )


@bp.get("/<ws>/configs/<config_id>")
@bp.response(200, ConfigSchema)
@_errors(401, 404)
def get_config_view(ws, config_id):
    """Get a config with its live draft, published version and clone URL."""
    workspace = require_workspace(ws, "viewer")
    return config_service.config_view(workspace, get_config(workspace, config_id))


@bp.delete("/<ws>/configs/<config_id>")
@bp.arguments(ConfigDeleteArgsSchema, location="query")
@bp.response(204)
@_errors(400, 401, 403, 404, 409)
def delete_config(args, ws, config_id):
    """Delete a config and its repo; ?force=true if it has versions (admin)."""
    workspace = require_workspace(ws, "admin")
    config = get_config(workspace, config_id)
    config_service.delete_config(workspace, config, args["force"])
