"""Workspaces and their API tokens."""

from __future__ import annotations

from app.extensions import Blueprint
from app.schemas.workspaces import (
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenSchema,
    WorkspaceCreateSchema,
    WorkspaceDeleteArgsSchema,
    WorkspaceSchema,
    WorkspaceUpdateSchema,
)
from app.services import access
from app.services import tokens as token_service
from app.services import workspaces as workspace_service
from app.web import request_context

bp = Blueprint("workspaces", __name__, url_prefix="/api/v1/workspaces")


@bp.get("")
@bp.response(200, WorkspaceSchema(many=True))
def list_workspaces():
    """List the workspaces the token can see."""
    ctx = request_context()
    return workspace_service.visible_workspaces(ctx.session, ctx.caller())


@bp.post("")
@bp.arguments(WorkspaceCreateSchema)
@bp.response(201, WorkspaceSchema)
@bp.problems(403, described={409: "A workspace with this slug exists."})
def create_workspace(data):
    """Create a workspace (instance admin)."""
    ctx = request_context()
    access.instance_admin(ctx)
    return workspace_service.create_workspace(ctx.session, **data)


@bp.get("/<ws>")
@bp.response(200, WorkspaceSchema)
def get_workspace(ws):
    """Get one workspace."""
    return access.workspace(request_context(), ws, "viewer")


@bp.patch("/<ws>")
@bp.arguments(WorkspaceUpdateSchema, required=False)  # no body: a no-op
@bp.response(200, WorkspaceSchema)
@bp.problems(403, described={409: "A workspace with this slug exists."})
def update_workspace(data, ws):
    """Rename a workspace: new slug and/or name (instance admin)."""
    return workspace_service.update_workspace(request_context(), ws, **data)


@bp.delete("/<ws>")
@bp.arguments(WorkspaceDeleteArgsSchema, location="query")
@bp.response(204)
@bp.problems(
    403,
    described={
        409: "The workspace holds configs, documents or jobs (`holds`): "
        "?force=true deletes it with them."
    },
)
def delete_workspace(args, ws):
    """Delete a workspace; ?force=true if it holds configs, documents or jobs
    (instance admin)."""
    workspace_service.delete_workspace(request_context(), ws, force=args["force"])


@bp.get("/<ws>/tokens")
@bp.response(200, TokenSchema(many=True))
@bp.problems(403)
def list_tokens(ws):
    """List the workspace's live tokens (admin)."""
    ctx = request_context()
    workspace = access.workspace(ctx, ws, "admin")
    return token_service.list_tokens(ctx.session, workspace.id)


@bp.post("/<ws>/tokens")
@bp.arguments(TokenCreateSchema)
@bp.response(201, TokenCreatedSchema)
@bp.problems(403)
def create_token(data, ws):
    """Create a token; its secret is shown in this response only (admin)."""
    ctx = request_context()
    workspace = access.workspace(ctx, ws, "admin")
    token, secret = token_service.create_token(
        ctx.session, data["name"], data["role"], workspace.id
    )
    token.secret = secret  # transient attribute: dumped once, never stored
    return token


@bp.delete("/<ws>/tokens/<token_id>")
@bp.response(204)
@bp.problems(403)
def revoke_token(ws, token_id):
    """Revoke a token (admin)."""
    ctx = request_context()
    workspace = access.workspace(ctx, ws, "admin")
    token_service.revoke_token(ctx.session, workspace.id, token_id)
