"""Fields that load exactly what the OpenAPI document says they take.

marshmallow's ``Boolean`` takes ``1``, ``"yes"``, ``"on"``... as true, and
``Integer`` takes ``"5"`` and ``5.0`` as 5, while the document says ``boolean`` and
``integer``: a client that sends ``"required": "yes"`` would be told nothing and
the next, stricter, server would refuse it. Every request schema uses these
(``tests/test_openapi_doc.py`` holds that).
"""

from __future__ import annotations

import re

from marshmallow import fields


class Boolean(fields.Boolean):
    """A JSON ``true`` or ``false``, nothing else (not 0/1, not strings)."""

    def _deserialize(self, value, attr, data, **kwargs):
        # type() and not isinstance(): True == 1, and 1 is in {True}.
        if type(value) is bool:
            return value
        raise self.make_error("invalid")


class QueryBoolean(fields.Boolean):
    """A boolean query parameter: ``true`` or ``false``, as OpenAPI writes one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("true", "false"):
            return value == "true"
        raise self.make_error("invalid")


class QueryInteger(fields.Integer):
    """An integer query parameter: digits, with an optional minus (not ``" 5"``,
    ``"+5"``, ``"5.0"`` or ``"٥"``, which ``int()`` would all take)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not (isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Integer(fields.Integer):
    """A JSON integer, nothing else (not ``"5"``, not ``5.0``, not ``true``)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is not int:  # bool is an int subclass
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Number(fields.Float):
    """A JSON number, nothing else (not ``"1.5"``, not ``true``), kept as sent
    (``1`` stays an int: the manifest is stored as written)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) not in (int, float):
            raise self.make_error("invalid")
        super()._deserialize(value, attr, data, **kwargs)  # NaN, infinities
        return value
