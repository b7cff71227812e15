"""Schemas for versions, publish/revert, version files, diffs and history."""

from marshmallow import Schema, fields, validate

from app.schemas.fields import QueryInteger

# semver.org 2.0's own expression (what ``semver.Version.is_valid`` accepts, no "v"
# prefix), [0-9] for \d so Python reads it as JSON Schema does (ASCII digits): the
# schema refuses what publish would.
_NUM = "(?:0|[1-9][0-9]*)"
_PRE = f"(?:{_NUM}|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
SEMVER_PATTERN = (
    rf"^{_NUM}\.{_NUM}\.{_NUM}(?:-{_PRE}(?:\.{_PRE})*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


class VersionSchema(Schema):
    id = fields.String()
    semver = fields.String(allow_none=True)
    status = fields.String()
    message = fields.String(allow_none=True)
    files_hash = fields.String(allow_none=True)
    commit = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class PublishSchema(Schema):
    semver = fields.String(
        required=True,
        validate=[
            validate.Length(min=5, max=100),
            validate.Regexp(
                SEMVER_PATTERN,
                error="must be MAJOR.MINOR.PATCH"
                "[-pre][+build] (semver.org 2.0, no 'v')",
            ),
        ],
    )
    message = fields.String(load_default="", validate=validate.Length(max=10_000))


class RevertResultSchema(Schema):
    published = fields.Nested(VersionSchema)
    deprecated = fields.Nested(VersionSchema)


class VersionFileSchema(Schema):
    path = fields.String()
    sha = fields.String()
    size = fields.Integer()


class VersionFileContentSchema(VersionFileSchema):
    sha256 = fields.String()
    # UTF-8 text; None with ``encoding: "base64"`` content for binary files.
    code = fields.String(allow_none=True)
    encoding = fields.String()
    content = fields.String(allow_none=True)


class DiffArgsSchema(Schema):
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)


class DiffFileSchema(Schema):
    path = fields.String()
    status = fields.String()
    additions = fields.Integer()
    deletions = fields.Integer()
    patch = fields.String()


class DiffSchema(Schema):
    # "from" is a Python keyword: the attribute is from_ and the JSON key "from".
    from_ = fields.String(data_key="from")
    to = fields.String()
    files = fields.List(fields.Nested(DiffFileSchema))


class HistoryArgsSchema(Schema):
    limit = QueryInteger(load_default=100, validate=validate.Range(min=1, max=1000))


class AuthorSchema(Schema):
    name = fields.String()
    email = fields.String()


class CommitSchema(Schema):
    sha = fields.String()
    message = fields.String()
    author = fields.Nested(AuthorSchema)
    time = fields.DateTime()
    paths = fields.List(fields.String())
