"""Configs of a workspace: list, create, get, delete."""

from __future__ import annotations

from app.extensions import Blueprint
from app.schemas.configs import ConfigCreateSchema, ConfigDeleteArgsSchema, ConfigSchema
from app.services import access
from app.services import configs as config_service
from app.web import request_context

bp = Blueprint("configs", __name__, url_prefix="/api/v1/workspaces")


@bp.get("/<ws>/configs")
@bp.response(200, ConfigSchema(many=True))
def list_configs(ws):
    """List the workspace's configs."""
    ctx = request_context()
    return config_service.list_configs(ctx, access.workspace(ctx, ws, "viewer"))


@bp.post("/<ws>/configs")
@bp.arguments(ConfigCreateSchema)
@bp.response(201, ConfigSchema)
@bp.problems(403, described={409: "A config with this slug exists."})
def create_config(data, ws):
    """Create a config: its repo with a scaffold on the draft (author)."""
    ctx = request_context()
    workspace = access.workspace(ctx, ws, "author")
    return config_service.create_config(ctx, workspace, data["slug"], data["title"])


@bp.get("/<ws>/configs/<config_id>")
@bp.response(200, ConfigSchema)
def get_config_view(ws, config_id):
    """Get a config with its live draft, published version and clone URL."""
    ctx = request_context()
    workspace, config = access.workspace_and_config(ctx, ws, config_id, "viewer")
    return config_service.config_view(ctx, workspace, config)


@bp.delete("/<ws>/configs/<config_id>")
@bp.arguments(ConfigDeleteArgsSchema, location="query")
@bp.response(204)
@bp.problems(403, described={409: "The config has versions: ?force=true deletes it."})
def delete_config(args, ws, config_id):
    """Delete a config and its repo; ?force=true if it has versions (admin)."""
    ctx = request_context()
    workspace, config = access.workspace_and_config(ctx, ws, config_id, "admin")
    config_service.delete_config(ctx, workspace, config, args["force"])
