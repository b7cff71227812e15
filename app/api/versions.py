"""Versions of a config: list, publish, revert, version files, diff, history."""

from __future__ import annotations

from app.extensions import Blueprint
from app.limits import rate_limited
from app.schemas.draft import PATH_SCHEMA
from app.schemas.versions import (
    CommitSchema,
    DiffArgsSchema,
    DiffSchema,
    HistoryArgsSchema,
    PublishSchema,
    RevertResultSchema,
    VersionFileContentSchema,
    VersionFileSchema,
    VersionSchema,
)
from app.services import access
from app.services import configs as config_service
from app.services import publish as publish_service
from app.web import request_context

bp = Blueprint(
    "versions", __name__, url_prefix="/api/v1/workspaces/<ws>/configs/<config_id>"
)


PATH_PARAM = {
    "in": "path",
    "name": "path",
    "description": "Path of the file in the version's tree.",
    "schema": PATH_SCHEMA,
}


def _config(ws: str, config_id: str, role: str = "viewer"):
    """The request's service context and the config it names (for ``role``)."""
    ctx = request_context()
    return ctx, access.workspace_and_config(ctx, ws, config_id, role)[1]


@bp.get("/versions")
@bp.response(200, VersionSchema(many=True))
def list_versions(ws, config_id):
    """List versions, newest first (the draft first, read live from git)."""
    return config_service.list_versions(*_config(ws, config_id))


@bp.post("/publish")
@bp.arguments(PublishSchema)
@bp.response(201, VersionSchema)
@bp.problems(
    403,
    described={
        400: "Invalid: the semver, or the draft fails the package check "
        "(`errors` by file, `problems` in full).",
        409: "The semver is not greater than every earlier version (`highest`), "
        "or a concurrent publish won.",
    },
)
@rate_limited(bp, "publish")
def publish(data, ws, config_id):
    """Publish the draft as a new version (publisher)."""
    ctx, config = _config(ws, config_id, "publisher")
    return publish_service.publish(ctx, config, data["semver"], data["message"])


@bp.post("/revert")
@bp.response(200, RevertResultSchema)
@bp.problems(403, described={409: "Nothing published, or nothing to revert to."})
def revert(ws, config_id):
    """Revert to the previous version (publisher)."""
    return publish_service.revert(*_config(ws, config_id, "publisher"))


@bp.get("/versions/<version_id>/files")
@bp.response(200, VersionFileSchema(many=True))
def list_version_files(ws, config_id, version_id):
    """List the files of a version (``draft`` or a version id)."""
    return config_service.list_version_files(*_config(ws, config_id), version_id)


@bp.get("/versions/<version_id>/files/<path:path>", parameters=[PATH_PARAM])
@bp.response(200, VersionFileContentSchema)
@bp.problems(described={400: "The path breaks the path rules."})
def read_version_file(ws, config_id, version_id, path):
    """Read one file of a version."""
    ctx, config = _config(ws, config_id)
    return config_service.read_version_file(ctx, config, version_id, path)


@bp.get("/diff")
@bp.arguments(DiffArgsSchema, location="query")
@bp.response(200, DiffSchema)
def diff(args, ws, config_id):
    """Diff two versions (ids or ``draft``): per-file status and unified patch."""
    return config_service.diff(*_config(ws, config_id), args["from_"], args["to"])


@bp.get("/history")
@bp.arguments(HistoryArgsSchema, location="query")
@bp.response(200, CommitSchema(many=True))
def history(args, ws, config_id):
    """List the draft's commits, newest first."""
    return config_service.history(*_config(ws, config_id), args["limit"])
