"""Schemas for workspaces and tokens."""

from marshmallow import Schema, fields, validate

from app.models import ROLES
from app.schemas.fields import QueryBoolean

# \Z, not $: "$" also matches before a trailing newline.
SLUG = validate.Regexp(
    r"^[a-z0-9][a-z0-9-]{0,62}\Z",
    error="must be 1-63 lowercase letters, digits or '-', not starting with '-'",
)


class WorkspaceCreateSchema(Schema):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class WorkspaceUpdateSchema(Schema):
    slug = fields.String(validate=SLUG)
    name = fields.String(validate=validate.Length(min=1, max=200))
    # An empty patch changes nothing (and still needs the workspace and the role).


class WorkspaceDeleteArgsSchema(Schema):
    force = QueryBoolean(
        load_default=False,
        metadata={"description": "delete it with its configs, documents and jobs"},
    )


class WorkspaceSchema(Schema):
    id = fields.String(dump_only=True)
    slug = fields.String()
    name = fields.String()
    created_at = fields.DateTime()


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class TokenSchema(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()
    workspace_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    secret = fields.String()


class CallerSchema(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()
    instance_admin = fields.Boolean()
    workspace = fields.Nested(WorkspaceSchema, allow_none=True)
