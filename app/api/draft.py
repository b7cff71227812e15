"""The draft of a config: files (ETag = blob id), Add Column, manifest, plan."""

from __future__ import annotations

from flask import Response, current_app, request, url_for

from app.api.etags import etag_header, if_match, parse_etags
from app.errors import UnsupportedMediaType
from app.extensions import Blueprint
from app.schemas.draft import (
    ETAG_HEADER,
    LOCATION_HEADER,
    PATH_SCHEMA,
    CheckResultSchema,
    CheckSchema,
    ColumnCreatedSchema,
    ColumnCreateSchema,
    FileCreateSchema,
    FileEntrySchema,
    FileMovedSchema,
    FileMoveSchema,
    FileSchema,
    FileUpdateSchema,
    FileWrittenSchema,
    IfMatchRequiredSchema,
    IfMatchSchema,
    IfNoneMatchSchema,
    ManifestPatchSchema,
    ManifestSchema,
    PlanSchema,
)
from app.services import check as check_service
from app.services import files
from app.services import manifest as manifest_service
from app.services import moves as move_service
from app.services import plan as plan_service
from app.services.draft import open_draft
from app.web import request_context

bp = Blueprint(
    "draft",
    __name__,
    url_prefix="/api/v1/workspaces/<ws>/configs/<config_id>",
    description="The editable draft of a config.",
)
MERGE_PATCH = "application/merge-patch+json"
CONFIG_PARAMS = [
    {"in": "path", "name": "ws", "description": "Workspace id or slug."},
    {"in": "path", "name": "config_id", "description": "Config id or slug."},
]
FILE_PARAMS = [
    *CONFIG_PARAMS,
    {
        "in": "path",
        "name": "path",
        "description": "Path of the file in the draft tree.",
        "example": "columns/email.py",
        "schema": PATH_SCHEMA,
    },
]
# JSON escaping can grow a file's text up to six-fold (\uXXXX); beyond that the
# body is refused before it is parsed.
BODY_SLACK = 64 * 1024


@bp.before_request
def _limit_body() -> None:
    request.max_content_length = 6 * current_app.config["MAX_FILE_BYTES"] + BODY_SLACK


def _draft(ws: str, config_id: str, role: str):
    return open_draft(request_context(), ws, config_id, role)


_etag = etag_header


@bp.get("/draft/files", parameters=CONFIG_PARAMS)
@bp.response(200, FileEntrySchema(many=True))
def list_files(ws, config_id):
    """List the draft's files."""
    return files.list_files(_draft(ws, config_id, "viewer"))


@bp.get("/draft/files/<path:path>", parameters=FILE_PARAMS)
@bp.arguments(IfNoneMatchSchema, location="headers", as_kwargs=True)
@bp.response(200, FileSchema, headers=ETAG_HEADER)
@bp.alt_response(304, description="Not modified", headers=ETAG_HEADER)
def read_file(ws, config_id, path, if_none_match=None):
    """Read one draft file (ETag = blob id; If-None-Match → 304)."""
    file = files.read_file(_draft(ws, config_id, "viewer"), path)
    tags = parse_etags(if_none_match) or []
    if "*" in tags or file.sha in tags or file.sha256 in tags:
        return Response(status=304, headers=_etag(file.sha))
    return file, _etag(file.sha)


@bp.post("/draft/files", parameters=CONFIG_PARAMS)
@bp.arguments(FileCreateSchema)
@bp.response(201, FileWrittenSchema, headers={**ETAG_HEADER, **LOCATION_HEADER})
@bp.problems(
    403,
    described={
        400: "Invalid: the path breaks the path rules, both code and template "
        "are given, or the tree would exceed its file limit.",
        409: "The file exists.",
    },
)
def create_file(data, ws, config_id):
    """Create a draft file from code or a template (409 if it exists)."""
    written = files.create_file(_draft(ws, config_id, "author"), **data)
    location = url_for("draft.read_file", ws=ws, config_id=config_id, path=written.path)
    return written, {**_etag(written.sha), "Location": location}


@bp.put("/draft/files/<path:path>", parameters=FILE_PARAMS)
@bp.arguments(IfMatchRequiredSchema, location="headers", as_kwargs=True)
@bp.arguments(FileUpdateSchema)
@bp.response(200, FileWrittenSchema, headers=ETAG_HEADER)
@bp.problems(
    403,
    412,
    428,
    described={
        400: "Invalid: a malformed If-Match, a path that breaks the path rules, "
        "or a manifest.json that is not a valid manifest (`problems` lists them).",
    },
)
def update_file(data, ws, config_id, path, if_match_header=None):
    """Save a draft file; If-Match (blob id or sha256) is required."""
    draft = _draft(ws, config_id, "author")
    expected = if_match(if_match_header, path, required=True)
    written = files.update_file(draft, path, data["code"], expected)
    return written, _etag(written.sha)


@bp.delete("/draft/files/<path:path>", parameters=FILE_PARAMS)
@bp.arguments(IfMatchSchema, location="headers", as_kwargs=True)
@bp.response(204)
@bp.problems(
    403,
    412,
    described={
        409: "The manifest names the file (remove its entry first), or the "
        "file is manifest.json.",
    },
)
def delete_file(ws, config_id, path, if_match_header=None):
    """Delete a draft file (If-Match optional, checked when given)."""
    expected = if_match(if_match_header, path, required=False)
    files.delete_file(_draft(ws, config_id, "author"), path, expected)


@bp.post("/draft:move", parameters=CONFIG_PARAMS)
@bp.arguments(IfMatchRequiredSchema, location="headers", as_kwargs=True)
@bp.arguments(FileMoveSchema)
@bp.response(200, FileMovedSchema, headers=ETAG_HEADER)
@bp.problems(
    403,
    412,
    428,
    described={
        400: "Invalid: a malformed If-Match, a path that breaks the path rules, "
        "the same path twice, manifest.json, or a move the manifest cannot "
        "follow (`problems`).",
        409: "The new path exists.",
    },
)
def move_file(data, ws, config_id, if_match_header=None):
    """Move (rename) a draft file in one commit; If-Match names its version. A
    file the manifest names is renamed there too, in the same commit."""
    draft = _draft(ws, config_id, "author")
    expected = if_match(if_match_header, data["from_"], required=True)
    moved = move_service.move_file(draft, data["from_"], data["to"], expected)
    return moved, _etag(moved.sha)


@bp.post("/draft:check", parameters=CONFIG_PARAMS)
@bp.arguments(CheckSchema)
@bp.response(200, CheckResultSchema)
@bp.problems(403, described={400: "The path breaks the path rules."})
def check_file(data, ws, config_id):
    """Check a file's text without saving it: the findings a save would report."""
    draft = _draft(ws, config_id, "author")
    problems = check_service.check_text(draft, data["path"], data["code"])
    return {"path": data["path"], "problems": problems}


@bp.post("/draft/columns", parameters=CONFIG_PARAMS)
@bp.arguments(ColumnCreateSchema)
@bp.response(201, ColumnCreatedSchema, headers={**ETAG_HEADER, **LOCATION_HEADER})
@bp.problems(403, described={409: "A column with this key, or its script, exists."})
def add_column(data, ws, config_id):
    """Add a column: its script and manifest entry in one commit."""
    created = files.add_column(_draft(ws, config_id, "author"), **data)
    location = url_for(
        "draft.read_file", ws=ws, config_id=config_id, path=created["path"]
    )
    return created, {**_etag(created["sha"]), "Location": location}


@bp.get("/draft/manifest", parameters=CONFIG_PARAMS)
@bp.response(200, ManifestSchema, headers=ETAG_HEADER)
def get_manifest(ws, config_id):
    """Read the draft manifest (ETag = its blob id)."""
    manifest, sha = manifest_service.get_manifest(_draft(ws, config_id, "viewer"))
    return manifest, _etag(sha)


@bp.patch("/draft/manifest", parameters=CONFIG_PARAMS)
@bp.arguments(IfMatchSchema, location="headers", as_kwargs=True)
@bp.arguments(ManifestPatchSchema, content_type=MERGE_PATCH)
@bp.doc(  # application/json is accepted too (webargs reads any JSON media type)
    requestBody={
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ManifestPatch"}
            }
        }
    }
)
@bp.response(200, ManifestSchema, headers=ETAG_HEADER)
@bp.problems(
    403,
    412,
    415,
    described={
        400: "Invalid: a malformed patch or If-Match, or a result that is not a "
        "valid manifest for the draft's files (`problems` lists every problem).",
    },
)
def patch_manifest(patch, ws, config_id, if_match_header=None):
    """Change the manifest with a JSON merge patch (RFC 7386); If-Match optional."""
    if not (request.mimetype == "application/json" or request.mimetype == MERGE_PATCH):
        raise UnsupportedMediaType(f"Send {MERGE_PATCH} or application/json.")
    draft = _draft(ws, config_id, "author")
    tags = if_match(if_match_header, "manifest.json", required=False)
    expected = files.resolve_expected(draft, "manifest.json", tags)
    manifest, result = manifest_service.patch_manifest(
        draft, patch, expected_sha=expected
    )
    sha = next((c.sha for c in result.changes if c.path == "manifest.json"), None)
    return manifest, _etag(sha or manifest_service.get_manifest(draft)[1])


@bp.post("/draft:plan", parameters=CONFIG_PARAMS)
@bp.response(200, PlanSchema)
def plan(ws, config_id):
    """Plan a run of the draft: phases, column DAG, warnings."""
    return plan_service.plan(_draft(ws, config_id, "viewer"))
