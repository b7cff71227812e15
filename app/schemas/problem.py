"""The problem+json error body (RFC 9457) and what each error status means here.

Every error answer of the API, the limits gunicorn answers before the app included
(``app.server``), is ``application/problem+json`` with this body. Its extension
members are listed below and nowhere else: the document forbids the others, so a
service error carrying a new one (``Conflict(..., highest=...)``) must add it here
(``tests/test_openapi_doc.py`` reads the services to hold that).
"""

from __future__ import annotations

import http

from marshmallow import Schema, fields

PROBLEM = "application/problem+json"


class ProblemSchema(Schema):
    """application/problem+json (documentation of error responses)."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Raw(metadata={"description": "on 400: field (or file) → messages"})
    current_etag = fields.String(
        metadata={"description": "on 412: the blob id of the file now"}
    )
    problems = fields.List(
        fields.Dict(),
        metadata={
            "description": "on a refused manifest save or publish: every problem of "
            "the package check (path, where, line, col, code, severity, message)"
        },
    )
    highest = fields.String(
        metadata={"description": "on a refused publish: the highest semver so far"}
    )
    holds = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "on a refused workspace delete: what it holds "
            "(configs, documents, jobs → how many)"
        },
    )


# The request limits gunicorn enforces before the app (``app.server`` sets them;
# its answers are problem+json too): stated here, where the document says them.
REQUEST_LINE_BYTES = 4094
HEADER_FIELDS = 100
HEADER_FIELD_BYTES = 8190

# What an error status means in this API: the description the document gives it
# wherever a view does not say more. The shared ones (``app.schemas.openapi``) are
# on every operation they can happen to.
DESCRIPTIONS = {
    400: "The request is malformed or invalid: `errors` maps each invalid field "
    "(or header, or file) to its messages.",
    401: "No valid bearer token.",
    403: "The token's role does not allow this.",
    404: "No such resource, or not in a workspace of this token.",
    409: "The current state forbids it.",
    412: "If-Match names another version of the file: `current_etag` is its "
    "version now.",
    413: "The request body is larger than this operation takes.",
    414: "The URL is longer than the server takes (a request line of more than "
    f"{REQUEST_LINE_BYTES} bytes).",
    415: "The body's media type or content is not one this operation takes.",
    428: "This write needs an If-Match header with the file's ETag.",
    429: "Too many requests from this token; retry after Retry-After.",
    431: f"A request header is longer than {HEADER_FIELD_BYTES} bytes, or there "
    f"are more than {HEADER_FIELDS}.",
    500: "An unexpected error (logged with the request id).",
    503: "Temporarily unavailable; retry later.",
}


def response_name(status: int) -> str:
    """The name of the response component documenting ``status``."""
    return http.HTTPStatus(status).name


# The answers that carry Retry-After, and its value in seconds: the start of the
# client's backoff (docs/api.md, "Retries"); ``app.errors.problem`` sets it. A 412
# on a busy file is a race lost, not an error, and retrying at once tends to lose
# again to the same writer. 429's comes from the rate limiter instead (the time
# until its window opens).
RETRY_AFTER_SECONDS = {412: 1, 503: 1}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying (start of the backoff).",
        "schema": {"type": "integer"},
    }
}


# Headers an error answer carries whichever view gives it (app/errors.py).
HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer realm="ade"',
            "schema": {"type": "string"},
        }
    },
    **{status: RETRY_AFTER_HEADER for status in RETRY_AFTER_SECONDS},
}


def problem_response(status: int, description: str | None = None) -> dict:
    """The OpenAPI response object of a problem+json answer."""
    response = {
        "description": description
        or DESCRIPTIONS.get(status)
        or http.HTTPStatus(status).phrase,
        "content": {PROBLEM: {"schema": ProblemSchema}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def documented_errors(bp):
    """``bp.problems``: kept for the views written before it (one decorator
    documenting a view's problem+json answers)."""
    return bp.problems
