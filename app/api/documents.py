"""Documents: upload, list, read, download, delete."""

from __future__ import annotations

from flask import current_app, request, send_file

from app.auth import require_workspace
from app.db import get_session
from app.extensions import Blueprint
from app.schemas.documents import DocumentSchema, UploadSchema
from app.services import documents as service

bp = Blueprint("documents", __name__, url_prefix="/api/v1/workspaces/<ws>/documents")


@bp.before_request
def _limit_body():
    # Before the multipart body is parsed: a too-large upload stops with 413 early.
    request.max_content_length = current_app.config["MAX_UPLOAD_BYTES"] + 64 * 1024


@bp.post("")
@bp.arguments(UploadSchema, location="files")
@bp.response(201, DocumentSchema)
def upload_document(_files, ws):
    """Upload a workbook (multipart field ``file``)."""
    workspace = require_workspace(ws, "author")
    upload = request.files.get("file")
    return service.store_upload(
        get_session(),
        current_app.config["DATA_DIR"],
        workspace,
        upload.stream if upload else None,
        upload.filename if upload else None,
        current_app.config["MAX_UPLOAD_BYTES"],
    )


@bp.get("")
@bp.response(200, DocumentSchema(many=True))
def list_documents(ws):
    """List the workspace's documents, newest first."""
    return service.list_documents(get_session(), require_workspace(ws, "viewer"))


@bp.get("/<document_id>")
@bp.response(200, DocumentSchema)
def get_document(ws, document_id):
    """Get a document's metadata."""
    return service.get_document(get_session(), require_workspace(ws), document_id)


@bp.get("/<document_id>/content")
@bp.response(
    200, {"format": "binary", "type": "string"}, content_type=service.XLSX_TYPE
)
def download_document(ws, document_id):
    """Download a document's bytes."""
    document = service.get_document(get_session(), require_workspace(ws), document_id)
    path = service.blob_path(current_app.config["DATA_DIR"], document.sha256)
    return send_file(
        path,
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        etag=document.sha256,
    )


@bp.delete("/<document_id>")
@bp.response(204)
def delete_document(ws, document_id):
    """Delete a document that no job uses."""
    workspace = require_workspace(ws, "author")
    service.delete_document(
        get_session(), current_app.config["DATA_DIR"], workspace, document_id
    )
