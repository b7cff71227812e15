"""Extension objects, bound to the app in create_app with init_app."""

from __future__ import annotations

import http
import json

from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser, abort

from app.errors import http_exception_response
from app.schemas.problem import PROBLEM, ProblemSchema


class Api(_Api):
    """flask-smorest's Api, answering errors as problem+json like the rest."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return http_exception_response(error)

    def _register_responses(self):
        # flask-smorest documents its shared error responses as application/json;
        # ours are application/problem+json (app/errors.py).
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


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
    """flask-smorest's Blueprint with the parser above."""

    ARGUMENTS_PARSER = Parser()

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
