"""Schemas of the worker calls (``/api/v1/worker/...``)."""

import json

from marshmallow import Schema, ValidationError, fields, validate


class ClaimSchema(Schema):
    worker = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "who runs it, for diagnostics (e.g. host:pid)"},
    )


class ClaimedSchema(Schema):
    job_id = fields.String()
    claim_id = fields.String(
        metadata={"description": "names this attempt in heartbeats and the finish"}
    )
    attempt = fields.Integer()
    git_path = fields.String(
        metadata={"description": "the config's smart-HTTP path; fetch `tag` there"}
    )
    tag = fields.String()
    files_hash = fields.String(metadata={"description": "the tag's tree id"})
    document_sha256 = fields.String()
    document_size = fields.Integer()
    flags = fields.Dict()


class HeartbeatSchema(Schema):
    claim_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    progress = fields.Dict(load_default=None, allow_none=True)


class HeartbeatAnswerSchema(Schema):
    keep_running = fields.Boolean()
    cancelled = fields.Boolean(
        metadata={"description": "false with keep_running false: the claim was lost"}
    )


class ResultSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(["succeeded", "failed"])
    )
    error = fields.String(load_default=None, allow_none=True)
    metrics = fields.Dict(load_default=None, allow_none=True)
    progress = fields.Dict(load_default=None, allow_none=True)


class _JsonResult(fields.Field):
    """A form field holding the ``ResultSchema`` object as JSON text."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            raw = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError("must be a JSON object") from exc
        if not isinstance(raw, dict):
            raise ValidationError("must be a JSON object")
        return ResultSchema().load(raw)


class FinishFormSchema(Schema):
    claim_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    result = _JsonResult(
        required=True,
        metadata={
            "type": "string",
            "description": "JSON: {status: succeeded|failed, error, metrics, progress}",
        },
    )


_FILE = {"type": "string", "format": "binary"}


class FinishFilesSchema(Schema):
    output = fields.Raw(metadata={**_FILE, "description": "output.xlsx"})
    report = fields.Raw(metadata={**_FILE, "description": "report.json"})
    logs = fields.Raw(metadata={**_FILE, "description": "logs.txt"})
