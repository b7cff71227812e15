"""Extension objects, bound to the app in create_app with init_app."""

from __future__ import annotations

import http
import json

from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser, abort

from app.errors import http_exception_response
from app.schemas.openapi import ConformancePlugin
from app.schemas.problem import PROBLEM, ProblemSchema, problem_response, response_name


class Api(_Api):
    """flask-smorest's Api, answering errors as problem+json like the rest, and
    documenting each operation's error statuses one by one (no catch-all
    ``default``: a status the document does not list is a bug it can catch)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return http_exception_response(error)

    def _init_spec(self, *, extra_plugins=None, **kwargs):
        plugins = [*(extra_plugins or ()), ConformancePlugin()]
        super()._init_spec(extra_plugins=plugins, **kwargs)

    def _register_responses(self):
        # One component per error status, problem+json (app/errors.py), described
        # as this API means it; registered when an operation refers to it.
        for status in http.HTTPStatus:
            if status >= 400:
                self.spec.components.response(
                    status.name, problem_response(status), lazy=True
                )


def _has_lone_surrogate(value) -> bool:
    # Iterative: a body nested hundreds deep is the manifest validator's to refuse.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class Parser(FlaskParser):
    """webargs' parser, refusing with 400 the JSON that json.loads accepts but the
    service cannot use: lone surrogates (``"\\ud800"``: not encodable as UTF-8, so
    not storable in SQL or git) and integers past CPython's digit limit (a
    ``ValueError`` that is not a ``JSONDecodeError``)."""

    def _raw_load_json(self, req):
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except RecursionError:
            # json.loads raises this, not ValueError, past the recursion limit.
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})
        except ValueError:
            abort(400, messages={"json": ["A number in the JSON body is too long."]})
        if _has_lone_surrogate(data):
            abort(400, messages={"json": ["The JSON body is not valid Unicode."]})
        return data


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint with the parser above, and ``problems`` to
    document a view's own error answers (the shared ones are added to every
    operation by ``app.schemas.openapi``)."""

    ARGUMENTS_PARSER = Parser()

    def problems(self, *statuses: int, described: dict[int, str] | None = None):
        """Document the problem+json answers of a view: ``403`` (with the
        description ``app.schemas.problem.DESCRIPTIONS`` gives it), or what
        they mean here with ``described={409: "The key is taken."}``."""

        def decorate(func):
            for status in statuses:
                func = self.alt_response(status, response=response_name(status))(func)
            for status, description in (described or {}).items():
                func = self.alt_response(
                    status,
                    schema=ProblemSchema,
                    content_type=PROBLEM,
                    description=description,
                )(func)
            return func

        return decorate

    def download(self, content_type: str, schema: dict | None = None):
        """Document a view answering with ``send_file``: 200 with the bytes, and
        what ``send_file`` also answers, 206 to a ``Range`` request, 304 to a
        conditional one (``If-None-Match``, ``If-Modified-Since``), 416 to a range
        past the end."""
        body = schema or {"type": "string", "format": "binary"}

        def decorate(func):
            func = self.response(200, body, content_type=content_type)(func)
            func = self.alt_response(
                206,
                schema={"type": "string", "format": "binary"},
                content_type=content_type,
                description="The part a Range header asked for.",
                success=True,
            )(func)
            func = self.alt_response(
                304, description="Not modified (If-None-Match, If-Modified-Since)."
            )(func)
            return self.problems(
                described={416: "The Range header asks past the end of the file."}
            )(func)

        return decorate

    def arguments(self, schema, **kwargs):
        """``Blueprint.arguments``, documenting invalid input as the 400 it is
        answered with (``app.errors`` turns webargs' 422 into 400)."""
        decorate = super().arguments(schema, **kwargs)

        def decorator(func):
            wrapped = decorate(func)
            responses = wrapped._apidoc["arguments"]["responses"]
            if responses.pop(422, None) is not None:
                responses[400] = http.HTTPStatus.BAD_REQUEST.name
            return wrapped

        return decorator


api = Api()
