"""Schemas for documents."""

from marshmallow import Schema, fields


class DocumentSchema(Schema):
    id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = fields.DateTime()


class UploadSchema(Schema):
    file = fields.Raw(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "An Excel workbook (.xlsx or .xlsm; not empty), at "
            "most ADE_MAX_UPLOAD_BYTES (50 MiB by default).",
        },
    )
