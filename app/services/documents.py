"""Uploaded documents: content-addressed bytes on disk, metadata in SQL."""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import IO

from sqlalchemy import func, select

from app.models import Document, Job, Workspace
from app.services.context import Context
from app.services.errors import Conflict, Invalid, NotFound, TooLarge, Unsupported

CHUNK = 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def blob_path(data_dir: Path, sha256: str) -> Path:
    """Where the bytes of a document with this sha256 live (content-addressed)."""
    return data_dir / "documents" / sha256[:2] / sha256


def document_path(ctx: Context, document: Document) -> Path:
    """The file holding ``document``'s bytes."""
    return blob_path(ctx.data_dir, document.sha256)


def _spool(stream: IO[bytes], tmp_dir: Path, limit: int) -> tuple[Path, str, int]:
    """Copy the upload to a temp file, hashing as we go; too large past ``limit``."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"The file is larger than the upload limit of {limit} bytes."
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name), digest.hexdigest(), size


def _check_spreadsheet(path: Path, filename: str) -> str:
    """Return the content type of an Excel workbook, or say why it is not one."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unsupported(
            f"{filename!r} is a legacy .xls or an encrypted workbook; "
            "save it as an unencrypted .xlsx and upload again."
        )
    if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
        raise Unsupported(
            f"{filename!r} is not an Excel workbook (.xlsx or .xlsm expected)."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise Unsupported(f"{filename!r} is a damaged zip file.") from exc
    if "xl/workbook.xml" not in names:
        raise Unsupported(f"{filename!r} is a zip file but not an Excel workbook.")
    return XLSX_TYPE


def _safe_filename(filename: str | None) -> str:
    """The client's file name without directories, control or format characters
    (a NUL or newline breaks the download's Content-Disposition header; a bidi
    override makes ``evil\u202excod.xlsx`` display as ``evildocx.xlsx``)."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = name[:250] or "upload.xlsx"
    # The bytes are checked to be a workbook, so the name says so too: a client's
    # ``filename*=UTF-8''x.html`` must not come back as an HTML download.
    if not name.lower().endswith(WORKBOOK_SUFFIXES):
        name += ".xlsx"
    return name


def store_upload(
    ctx: Context,
    workspace: Workspace,
    stream: IO[bytes] | None,
    filename: str | None,
) -> Document:
    """Store an uploaded workbook (at most ``MAX_UPLOAD_BYTES``) and index it."""
    session, data_dir = ctx.session, ctx.data_dir
    limit = ctx.settings["MAX_UPLOAD_BYTES"]
    if stream is None:
        raise Invalid("Send the workbook as multipart/form-data field 'file'.")
    filename = _safe_filename(filename)
    tmp, sha256, size = _spool(stream, data_dir / "tmp", limit)
    try:
        if size == 0:  # not a workbook either: the 415 of every other non-workbook
            raise Unsupported("The uploaded file is empty: not an Excel workbook.")
        content_type = _check_spreadsheet(tmp, filename)
        target = blob_path(data_dir, sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.replace(tmp, target)  # atomic: readers never see half a file
    finally:
        tmp.unlink(missing_ok=True)
    document = Document(
        workspace_id=workspace.id,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=sha256,
    )
    session.add(document)
    session.commit()
    return document


def list_documents(ctx: Context, workspace: Workspace) -> list[Document]:
    return list(
        ctx.session.scalars(
            select(Document)
            .where(Document.workspace_id == workspace.id)
            .order_by(Document.created_at.desc(), Document.id)
        )
    )


def get_document(ctx: Context, workspace: Workspace, document_id: str) -> Document:
    document = ctx.session.get(Document, document_id)
    if document is None or document.workspace_id != workspace.id:
        raise NotFound(f"Document {document_id!r} not found.")
    return document


def delete_document(ctx: Context, workspace: Workspace, document_id: str) -> None:
    """Delete a document no job refers to; its bytes go when no row shares them."""
    session = ctx.session
    document = get_document(ctx, workspace, document_id)
    used = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.input_document_id == document.id)
    )
    if used:
        raise Conflict(f"The document is the input of {used} job(s); it is kept.")
    sha256 = document.sha256
    session.delete(document)
    session.commit()
    others = session.scalar(
        select(func.count()).select_from(Document).where(Document.sha256 == sha256)
    )
    if not others:
        blob_path(ctx.data_dir, sha256).unlink(missing_ok=True)
