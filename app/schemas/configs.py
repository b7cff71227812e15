"""Schemas for configs (SPEC §4 "Configs")."""

from marshmallow import Schema, fields, validate

from app.schemas.fields import QueryBoolean
from app.schemas.versions import VersionSchema
from app.schemas.workspaces import SLUG


class ConfigCreateSchema(Schema):
    slug = fields.String(required=True, validate=SLUG)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    # Only one template exists in v1; accepted for forward compatibility.
    template = fields.String(
        load_default="default", validate=validate.OneOf(["default"])
    )


class ConfigDeleteArgsSchema(Schema):
    force = QueryBoolean(load_default=False)


class DraftRefSchema(Schema):
    id = fields.String(allow_none=True)
    files_hash = fields.String()
    commit = fields.String()


class ConfigSchema(Schema):
    id = fields.String()
    workspace_id = fields.String()
    slug = fields.String()
    title = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    draft = fields.Nested(DraftRefSchema)
    published = fields.Nested(VersionSchema, allow_none=True)
    clone_url = fields.String()
