"""What every operation of the OpenAPI document says without its view saying it.

An apispec plugin, so that a new endpoint conforms by construction:

* the error answers any operation can give, whatever its view does, are added to
  every operation they can happen to (problem+json, ``app.schemas.problem``):
  400 (a malformed request: gunicorn's or werkzeug's parser, or invalid input),
  401 (every operation needs a token unless it says ``security: []``), 404 (an
  operation with path parameters), 413 (with a request body: the app's body
  limits), 414 and 431 (gunicorn's request line and header limits, answered as
  problem+json by ``app.server``), 500;
* each operation gets an ``operationId``: its Flask endpoint (``draft.read_file``);
* a marshmallow schema may add JSON Schema keywords marshmallow cannot express
  (``not``, ``oneOf``, ``format``) with ``class Meta: openapi = {...}``.

The statuses that depend on what a view does (403, 409, 412, 415, 428, 429) are
declared on the view with ``@bp.problems(...)`` (``app.extensions.Blueprint``).
"""

from __future__ import annotations

from apispec import BasePlugin

from app.schemas.problem import response_name

ALWAYS = (400, 414, 431, 500)


def shared_statuses(path: str, operation: dict) -> list[int]:
    """The error statuses ``operation`` (on ``path``) can answer whatever it does."""
    statuses = list(ALWAYS)
    if operation.get("security") != []:
        statuses.append(401)
    if "{" in path:
        statuses.append(404)
    if "requestBody" in operation:
        statuses.append(413)
    return sorted(statuses)


class ConformancePlugin(BasePlugin):
    """See the module docstring."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        meta = getattr(schema, "Meta", None)
        extra = getattr(meta, "openapi", None)
        return dict(extra) if extra else None

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if rule is not None:
                suffix = f"_{method}" if len(operations) > 1 else ""
                operation.setdefault("operationId", rule.endpoint + suffix)
            responses = operation.setdefault("responses", {})
            declared = {str(code) for code in responses}
            for status in shared_statuses(path or "", operation):
                if str(status) not in declared:
                    responses[str(status)] = response_name(status)
