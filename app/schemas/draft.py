"""Schemas for the draft: files, columns, the manifest and the plan."""

from marshmallow import INCLUDE, Schema, fields, post_dump, validate

from runner.manifest import KEY_PATTERN
from runner.scaffold import TEMPLATES

KEY_REGEX = rf"^{KEY_PATTERN}\Z"  # \Z: ``$`` would also match before a newline


ETAG_HEADER = {
    "ETag": {
        "description": "The file's git blob id, quoted.",
        "schema": {"type": "string"},
    }
}
LOCATION_HEADER = {
    "Location": {"description": "URL of the new file.", "schema": {"type": "string"}}
}


class IfMatchSchema(Schema):
    if_match_header = fields.String(
        data_key="If-Match",
        metadata={
            "description": 'The blob id ("sha") the write replaces; the content\'s '
            "sha256 is accepted too. Quoted, unquoted and W/ forms are accepted."
        },
    )


class IfNoneMatchSchema(Schema):
    if_none_match = fields.String(
        data_key="If-None-Match",
        metadata={"description": "A blob id: 304 when the file still has it."},
    )


class FindingSchema(Schema):
    """One problem of the package check (``runner.checks.Problem``)."""

    source = fields.String(metadata={"description": "guardrail or manifest"})
    path = fields.String(metadata={"description": "the file it is about"})
    where = fields.String(
        allow_none=True, metadata={"description": "JSON path in the manifest"}
    )
    line = fields.Integer(allow_none=True)
    col = fields.Integer(allow_none=True)
    code = fields.String()
    message = fields.String()
    severity = fields.String(
        metadata={"description": "error (blocks publish and push) or warning"}
    )
    fatal = fields.Boolean(
        metadata={"description": "true: nothing could run (no manifest, a cycle)"}
    )


class FileEntrySchema(Schema):
    path = fields.String()
    sha = fields.String(metadata={"description": "git blob id (the ETag)"})
    size = fields.Integer()
    language = fields.String()


class FileSchema(FileEntrySchema):
    sha256 = fields.String()
    binary = fields.Boolean(metadata={"description": "true: not UTF-8 text"})
    code = fields.String(allow_none=True)
    encoding = fields.String(metadata={"description": "utf-8 or base64"})
    content = fields.String(
        allow_none=True, metadata={"description": "base64 of the bytes, if binary"}
    )


class FileCreateSchema(Schema):
    path = fields.String(required=True, validate=validate.Length(min=1, max=255))
    template = fields.String(validate=validate.OneOf(TEMPLATES))
    code = fields.String()


class FileUpdateSchema(Schema):
    code = fields.String(required=True)


class FileWrittenSchema(Schema):
    path = fields.String()
    sha = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    commit = fields.String()
    warnings = fields.List(fields.Nested(FindingSchema))


class FileMoveSchema(Schema):
    from_ = fields.String(
        required=True,
        data_key="from",
        validate=validate.Length(min=1, max=255),
        metadata={"description": "the file's path now"},
    )
    to = fields.String(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata={"description": "its new path"},
    )


class FileMovedSchema(Schema):
    path = fields.String(metadata={"description": "the new path"})
    from_ = fields.String(data_key="from")
    sha = fields.String(metadata={"description": "blob id (unchanged by a move)"})
    commit = fields.String()
    manifest_updated = fields.Boolean(
        metadata={
            "description": "true: the manifest named the file and now names "
            "its new path (same commit)"
        }
    )


class CheckSchema(Schema):
    path = fields.String(required=True, validate=validate.Length(min=1, max=255))
    code = fields.String(required=True)


class CheckResultSchema(Schema):
    path = fields.String()
    problems = fields.List(
        fields.Nested(FindingSchema),
        metadata={"description": "what a save of this text would report"},
    )


class ColumnCreateSchema(Schema):
    key = fields.String(
        required=True,
        validate=validate.Regexp(KEY_REGEX, error="must match {regex}"),
    )
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))
    required = fields.Boolean(load_default=False)
    template = fields.String(load_default="column", validate=validate.OneOf(TEMPLATES))


class ColumnCreatedSchema(FileWrittenSchema):
    key = fields.String()
    column = fields.Dict(metadata={"description": "the new manifest entry"})


class ManifestSchema(Schema):
    """The manifest exactly as stored (every key passes through)."""

    name = fields.String()
    sdk_version = fields.String()
    min_score = fields.Float()
    columns = fields.List(fields.Dict())
    table = fields.Dict()
    hints = fields.Dict()
    pins = fields.Dict()
    capabilities = fields.Dict()

    @post_dump(pass_original=True)
    def _as_stored(self, data, original, **_kwargs):
        return dict(original)


class ManifestPatchSchema(Schema):
    """An RFC 7386 merge patch of the manifest: ``null`` deletes a key."""

    class Meta:
        unknown = INCLUDE

    name = fields.Raw(allow_none=True)
    min_score = fields.Raw(allow_none=True)
    columns = fields.Raw(allow_none=True)
    hints = fields.Raw(allow_none=True)


class DagNodeSchema(Schema):
    key = fields.String()
    label = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    ordinal = fields.Integer(allow_none=True)
    depends_on = fields.List(fields.String())


class PlanSchema(Schema):
    phases = fields.List(fields.String())
    dag = fields.List(fields.Nested(DagNodeSchema))
    warnings = fields.List(fields.Nested(FindingSchema))
    errors = fields.List(fields.Nested(FindingSchema))
