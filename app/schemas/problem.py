"""The problem+json error body (RFC 9457), for the OpenAPI document."""

from marshmallow import Schema, fields

PROBLEM = "application/problem+json"


class ProblemSchema(Schema):
    """application/problem+json (documentation of error responses)."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Raw(metadata={"description": "field → messages"})
    current_etag = fields.String(metadata={"description": "on 412: the blob id now"})
    problems = fields.List(
        fields.Dict(),
        metadata={
            "description": "on a refused manifest save or publish: every problem of "
            "the package check (path, where, line, col, code, severity, message)"
        },
    )


def documented_errors(bp):
    """A decorator factory documenting a view's problem+json answers on ``bp``."""

    def errors(*codes: int):
        def decorate(func):
            for code in codes:
                func = bp.alt_response(
                    code, schema=ProblemSchema, content_type=PROBLEM, success=False
                )(func)
            return func

        return decorate

    return errors
