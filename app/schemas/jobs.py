"""Schemas for jobs and dry-runs."""

from marshmallow import INCLUDE, Schema, fields, validate

from app.schemas.fields import Boolean, Integer

SAMPLE_ROWS = validate.Range(min=1, max=10_000)


class FlagsSchema(Schema):
    """A job's flags: the ones the service reads are typed; others are kept (they
    are part of the run_key, so they tell otherwise equal runs apart)."""

    class Meta:
        unknown = INCLUDE

    force = Boolean(
        metadata={"description": "run again even if a succeeded job has the run_key"}
    )
    sample_rows = Integer(
        validate=SAMPLE_ROWS,
        metadata={"description": "rows each detector sees per column"},
    )


class JobCreateSchema(Schema):
    config_version_id = fields.String(
        required=True, validate=validate.Length(min=1, max=64)
    )
    input_document_id = fields.String(
        required=True, validate=validate.Length(min=1, max=64)
    )
    flags = fields.Nested(FlagsSchema, load_default=dict)


class JobQuerySchema(Schema):
    status = fields.String(
        validate=validate.OneOf(
            ["queued", "running", "succeeded", "failed", "cancelled"]
        )
    )
    config_id = fields.String()


class JobSchema(Schema):
    id = fields.String()
    config_version_id = fields.String()
    input_document_id = fields.String()
    run_key = fields.String()
    flags = fields.Dict()
    status = fields.String()
    attempts = fields.Integer()
    error = fields.String(allow_none=True)
    metrics = fields.Dict(allow_none=True)
    progress = fields.Dict(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    heartbeat_at = fields.DateTime(allow_none=True)
    reused = fields.Boolean(dump_default=False)


class DryRunSchema(Schema):
    documentId = fields.String(required=True, validate=validate.Length(min=1, max=64))
    sample_rows = Integer(validate=SAMPLE_ROWS)


class DryRunDownloadsSchema(Schema):
    output = fields.String(
        allow_none=True,
        metadata={"description": "URL of the normalized workbook (null: none)"},
    )
    report = fields.String(metadata={"description": "URL of the report (JSON)"})


class DryRunProgressSchema(Schema):
    phase = fields.String(metadata={"description": "the engine's phase now"})
    rows = fields.Integer(metadata={"description": "rows done in that phase"})


class DryRunResultSchema(Schema):
    """A dry run: while it runs, its status and progress; once it has finished,
    the runner's report (SPEC §7) plus the outcome of the run."""

    status = fields.String(
        metadata={"enum": ["queued", "running", "succeeded", "failed"]}
    )
    progress = fields.Nested(
        DryRunProgressSchema,
        allow_none=True,
        metadata={"description": "while queued or running: the latest progress"},
    )
    error = fields.String(allow_none=True)
    tables = fields.List(fields.Dict())
    findings = fields.List(fields.Dict())
    logs = fields.List(fields.String())
    metrics = fields.Dict()
    preview = fields.Dict(
        metadata={
            "description": "the first output rows per table (labels, values, the "
            "messages of issue cells, lines skipped above the header), capped"
        }
    )
    id = fields.String(metadata={"description": "the dry run's id"})
    downloads = fields.Nested(DryRunDownloadsSchema)
