"""Extension objects, bound to the app in create_app with init_app."""

from __future__ import annotations

import json

from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser, abort

from app.errors import http_exception_response


class Api(_Api):
    """flask-smorest's Api, answering errors as problem+json like the rest."""

    def handle_http_exception(self, error):
        return http_exception_response(error)


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
        except ValueError:
            abort(400, messages={"json": ["A number in the JSON body is too long."]})
        if _has_lone_surrogate(data):
            abort(400, messages={"json": ["The JSON body is not valid Unicode."]})
        return data


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint with the parser above."""

    ARGUMENTS_PARSER = Parser()


api = Api()
