"""Schemas for the draft: files, columns, the manifest and the plan."""

from marshmallow import INCLUDE, Schema, fields, missing, post_dump, validate

from app.api.etags import IF_MATCH_PATTERN, IF_MATCH_RULE
from app.schemas.fields import Boolean
from repos.paths import MAX_PATH_BYTES, PATH_RULES, path_pattern
from runner.manifest import KEY_PATTERN
from runner.scaffold import TEMPLATES

KEY_REGEX = rf"^{KEY_PATTERN}\Z"  # \Z: ``$`` would also match before a newline

# A path in a config tree: ``repos.paths.validate_path`` as JSON Schema. The
# pattern says all of it but what a portable regex cannot (see ``path_pattern``);
# ``format: config-path`` names the whole rule, stated in the description.
PATH_FORMAT = "config-path"
PATH_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_PATH_BYTES,
    "pattern": path_pattern(),
    "format": PATH_FORMAT,
    "description": PATH_RULES,
}


def path_field(description: str, **kwargs) -> fields.String:
    """A file path in a request body, documented with the path rules. It loads as
    any string: the service checks the rule and says which part is broken."""
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_PATH_BYTES),
        metadata={
            **{k: v for k, v in PATH_SCHEMA.items() if k != "type"},
            "description": f"{description} {PATH_RULES}",
        },
        **kwargs,
    )


ETAG_HEADER = {
    "ETag": {
        "description": "The file's git blob id, quoted.",
        "schema": {"type": "string"},
    }
}
LOCATION_HEADER = {
    "Location": {"description": "URL of the new file.", "schema": {"type": "string"}}
}

_IF_MATCH = {
    "data_key": "If-Match",
    "validate": validate.Regexp(
        IF_MATCH_PATTERN, error="must be * or a comma-separated list of entity tags"
    ),
}


class IfMatchSchema(Schema):
    """An optional If-Match: checked when given, the write is unguarded without."""

    if_match_header = fields.String(
        **_IF_MATCH,
        metadata={"description": f"Checked when given: {IF_MATCH_RULE}"},
    )


class _RequiredByTheView(fields.String):
    """Documented as required, but its absence is the view's to answer (428 after
    the access checks: a token of another workspace still gets its 404), not the
    schema's (a 400 before them)."""

    def _validate_missing(self, value):
        if value is not missing:
            super()._validate_missing(value)


class IfMatchRequiredSchema(Schema):
    """A required If-Match: missing is 428 (RFC 6585), not a validation error."""

    if_match_header = _RequiredByTheView(
        required=True,
        **_IF_MATCH,
        metadata={"description": f"Required (428 without): {IF_MATCH_RULE}"},
    )


class IfNoneMatchSchema(Schema):
    if_none_match = fields.String(
        data_key="If-None-Match",
        metadata={
            "description": "A blob id: 304 when the file still has it (any value "
            "is taken: one that names no version just does not match)."
        },
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
    """``code``, or a ``template``, or neither (the path's default template)."""

    class Meta:
        # Not both: each branch is closed to the other field ("not" would say it
        # shorter, but generators and validators read it unevenly).
        openapi = {
            "anyOf": [
                {"properties": {"path": {}, "code": {}}, "additionalProperties": False},
                {
                    "properties": {"path": {}, "template": {}},
                    "additionalProperties": False,
                },
            ]
        }

    path = path_field("The new file's path.")
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
    from_ = path_field("The file's path now.", data_key="from")
    to = path_field("Its new path.")


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
    path = path_field("The file the text is for.")
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
    required = Boolean(load_default=False)
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


def _patch_value(json_type: str, *, nullable: bool = True, **schema):
    """A key of the manifest patch: documented with its JSON type, loaded as sent.
    The package check reads the whole result and refuses it with every problem at
    once (a wrong type here and a missing script there), which a schema refusing
    the first would hide; it refuses all the types the document rules out."""
    return fields.Raw(
        allow_none=True,
        metadata={"type": json_type, "nullable": nullable, **schema},
    )


class ManifestPatchSchema(Schema):
    """An RFC 7386 merge patch of the manifest: ``null`` deletes a key (but not
    ``columns``: a manifest has them), an object is merged into the one there.
    The result is checked as a whole against the draft's files (SPEC §5): 400
    with every problem when it is not a valid manifest."""

    class Meta:
        unknown = INCLUDE  # refused by the package check, with the rest
        openapi = {"additionalProperties": False}

    name = _patch_value("string")
    sdk_version = _patch_value("string")
    min_score = _patch_value("number")
    columns = _patch_value("array", nullable=False, items={"type": "object"})
    table = _patch_value("object")
    hints = _patch_value("object")
    pins = _patch_value(
        "object", additionalProperties={"type": "string", "nullable": True}
    )
    capabilities = _patch_value("object")


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
