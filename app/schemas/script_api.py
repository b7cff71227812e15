"""The script API description (``runner.script_api``) as the API serves it."""

from marshmallow import Schema, fields


class ArgSchema(Schema):
    name = fields.String()
    type = fields.String()
    doc = fields.String()


class HookSchema(Schema):
    name = fields.String(metadata={"description": "a function name, or a prefix"})
    prefix = fields.Boolean(
        metadata={"description": "true: every function starting with name"}
    )
    files = fields.String(metadata={"description": "the scripts that define it"})
    when = fields.String()
    args = fields.List(fields.Nested(ArgSchema))
    returns = fields.String()
    doc = fields.String()
    signature = fields.String()


class ScriptApiSchema(Schema):
    version = fields.Integer()
    hooks = fields.List(fields.Nested(HookSchema))
    ctx = fields.List(fields.Nested(ArgSchema), metadata={"description": "ctx.*"})
    field = fields.List(
        fields.Nested(ArgSchema), metadata={"description": "keys of field"}
    )
    field_extra = fields.String()
    imports = fields.List(fields.String(), metadata={"description": "importable"})
    forbidden_calls = fields.List(fields.String())
    allowed_dunders = fields.List(fields.String())
