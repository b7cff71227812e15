"""Who the caller is: the token's name, role and workspace (for the editor)."""

from __future__ import annotations

from app.extensions import Blueprint
from app.schemas.workspaces import CallerSchema
from app.services.tokens import describe_caller
from app.web import request_context

bp = Blueprint("me", __name__, url_prefix="/api/v1/me")


@bp.get("")
@bp.response(200, CallerSchema)
def me():
    """The calling token: name, role, workspace (null: an instance admin)."""
    return describe_caller(request_context())
