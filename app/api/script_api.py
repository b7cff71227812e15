"""The script API description: hooks, their arguments, ``ctx`` and field keys."""

from __future__ import annotations

from app.extensions import Blueprint
from app.schemas.script_api import ScriptApiSchema
from app.web import request_context
from runner import script_api

bp = Blueprint("script_api", __name__, url_prefix="/api/v1/script-api")


@bp.get("")
@bp.response(200, ScriptApiSchema)
def describe():
    """The script API (runner/script_api.py): what the editor completes from."""
    request_context()  # any valid token
    return script_api.describe()
