"""Documents: upload, list, read, download, delete."""

from __future__ import annotations

from flask import current_app, request, send_file

from app.extensions import Blueprint
from app.limits import rate_limited
from app.schemas.documents import DocumentSchema, UploadSchema
from app.services import access
from app.services import documents as service
from app.web import request_context

bp = Blueprint("documents", __name__, url_prefix="/api/v1/workspaces/<ws>/documents")


@bp.before_request
def _limit_body():
    # Before the multipart body is parsed: a too-large upload stops with 413 early.
    request.max_content_length = current_app.config["MAX_UPLOAD_BYTES"] + 64 * 1024


@bp.post("")
@bp.arguments(UploadSchema, location="files")
@bp.response(201, DocumentSchema)
@bp.problems(
    403,
    described={
        400: "No multipart field `file`.",
        413: "The file is larger than the upload limit (ADE_MAX_UPLOAD_BYTES).",
        415: "Not an Excel workbook (.xlsx or .xlsm): empty, a legacy .xls, "
        "another zip file, a damaged one, or anything else.",
    },
)
@rate_limited(bp, "upload")
def upload_document(_files, ws):
    """Upload a workbook (multipart field ``file``)."""
    ctx = request_context()
    workspace = access.workspace(ctx, ws, "author")
    upload = request.files.get("file")
    return service.store_upload(
        ctx,
        workspace,
        upload.stream if upload else None,
        upload.filename if upload else None,
    )


@bp.get("")
@bp.response(200, DocumentSchema(many=True))
def list_documents(ws):
    """List the workspace's documents, newest first."""
    ctx = request_context()
    return service.list_documents(ctx, access.workspace(ctx, ws, "viewer"))


@bp.get("/<document_id>")
@bp.response(200, DocumentSchema)
def get_document(ws, document_id):
    """Get a document's metadata."""
    ctx = request_context()
    return service.get_document(ctx, access.workspace(ctx, ws), document_id)


@bp.get("/<document_id>/content")
@bp.download(service.XLSX_TYPE)
def download_document(ws, document_id):
    """Download a document's bytes."""
    ctx = request_context()
    document = service.get_document(ctx, access.workspace(ctx, ws), document_id)
    return send_file(
        service.document_path(ctx, document),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        etag=document.sha256,
    )


@bp.delete("/<document_id>")
@bp.response(204)
@bp.problems(403, described={409: "A job uses the document as its input."})
def delete_document(ws, document_id):
    """Delete a document that no job uses."""
    ctx = request_context()
    service.delete_document(ctx, access.workspace(ctx, ws, "author"), document_id)
