"""Workspaces and their API tokens."""

from __future__ import annotations

from sqlalchemy import select

from app.auth import current_principal, require_instance_admin, require_workspace
from app.db import get_session
from app.extensions import Blueprint
from app.models import Workspace
from app.schemas.workspaces import (
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenSchema,
    WorkspaceCreateSchema,
    WorkspaceSchema,
)
from app.services import tokens as token_service
from app.services import workspaces as workspace_service

bp = Blueprint("workspaces", __name__, url_prefix="/api/v1/workspaces")


@bp.get("")
@bp.response(200, WorkspaceSchema(many=True))
def list_workspaces():
    """List the workspaces the token can see."""
    principal = current_principal()
    query = select(Workspace).order_by(Workspace.slug)
    if not principal.is_instance_admin:
        query = query.where(Workspace.id == principal.workspace_id)
    return get_session().scalars(query).all()


@bp.post("")
@bp.arguments(WorkspaceCreateSchema)
@bp.response(201, WorkspaceSchema)
def create_workspace(data):
    """Create a workspace (instance admin)."""
    require_instance_admin()
    return workspace_service.create_workspace(get_session(), **data)


@bp.get("/<ws>")
@bp.response(200, WorkspaceSchema)
def get_workspace(ws):
    """Get one workspace."""
    return require_workspace(ws, "viewer")


@bp.get("/<ws>/tokens")
@bp.response(200, TokenSchema(many=True))
def list_tokens(ws):
    """List the workspace's live tokens (admin)."""
    workspace = require_workspace(ws, "admin")
    return token_service.list_tokens(get_session(), workspace.id)


@bp.post("/<ws>/tokens")
@bp.arguments(TokenCreateSchema)
@bp.response(201, TokenCreatedSchema)
def create_token(data, ws):
    """Create a token; its secret is shown in this response only (admin)."""
    workspace = require_workspace(ws, "admin")
    token, secret = token_service.create_token(
        get_session(), data["name"], data["role"], workspace.id
    )
    token.secret = secret  # transient attribute: dumped once, never stored
    return token


@bp.delete("/<ws>/tokens/<token_id>")
@bp.response(204)
def revoke_token(ws, token_id):
    """Revoke a token (admin)."""
    workspace = require_workspace(ws, "admin")
    token_service.revoke_token(get_session(), workspace.id, token_id)
