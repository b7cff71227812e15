"""The OpenAPI document's promises that hold by construction, checked in-process
(the live run of every check is tests/test_api_conformance.py): every operation
lists the errors it can give as problem+json, the problem body lists every member
a service puts in it, request schemas load exactly the JSON types they document,
and the edge answers 405, ``//`` and malformed If-Match the way the document says.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import semver
from flask_smorest.utils import resolve_schema_instance
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import fields

from app.api.etags import IF_MATCH_PATTERN, parse_etags, valid_if_match
from app.schemas.fields import Boolean, Integer, Number, QueryBoolean, QueryInteger
from app.schemas.openapi import shared_statuses
from app.schemas.problem import PROBLEM, ProblemSchema
from app.schemas.versions import SEMVER_PATTERN
from tests.draft_helpers import cfg, env  # noqa: F401 - fixtures

APP = Path(__file__).resolve().parents[1] / "app"
# marshmallow's own, and what to use instead (Query* for query parameters).
LENIENT = {fields.Boolean: Boolean, fields.Integer: Integer, fields.Float: Number}


@pytest.fixture(scope="module")
def doc(env):  # noqa: F811 - the fixture
    return env.client.get("/api/v1/openapi.json").json


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                yield path, method, op


def _response(doc, response):
    ref = response.get("$ref")
    return doc["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def test_every_operation_lists_its_errors_as_problem_json(doc):
    ids = []
    for path, method, op in _operations(doc):
        where = f"{method.upper()} {path}"
        ids.append(op.get("operationId"))
        statuses = set(op["responses"])
        assert "default" not in statuses and "422" not in statuses, where
        assert {str(s) for s in shared_statuses(path, op)} <= statuses, where
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            content = _response(doc, response)["content"]
            assert list(content) == [PROBLEM], (where, status)
            assert content[PROBLEM]["schema"]["$ref"].endswith("/Problem")
    assert len(ids) > 30 and None not in ids and len(set(ids)) == len(ids)
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["additionalProperties"] is False  # so a new member is caught


def _error_classes() -> set[str]:
    import app.errors as http_errors
    import app.services.errors as service_errors

    names = set()
    for module, base in (
        (service_errors, service_errors.ServiceError),
        (http_errors, http_errors.HttpError),
    ):
        names |= {
            n
            for n, v in vars(module).items()
            if isinstance(v, type) and issubclass(v, base)
        }
    return names


def test_problem_schema_lists_every_member_a_service_error_carries():
    """Services raise ``Conflict(..., highest=...)``: every such keyword becomes
    a member of the problem body, which the document's schema must list."""
    classes, members = _error_classes(), set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                if name in classes:
                    members |= {k.arg for k in node.keywords if k.arg}
    assert {"highest", "current_etag", "problems", "errors"} <= members
    assert members <= set(ProblemSchema().fields), members - set(ProblemSchema().fields)


def _loaded_fields(schema, seen):
    """Every field ``schema`` loads, nested ones included."""
    if id(schema) in seen:
        return
    seen.add(id(schema))
    for field in schema.fields.values():
        if field.dump_only:
            continue
        yield field
        inner = [getattr(field, "inner", None), getattr(field, "value_field", None)]
        yield from filter(None, inner)
        if isinstance(field, fields.Nested):
            yield from _loaded_fields(field.schema, seen)


def test_request_schemas_load_only_the_json_types_they_document(env):  # noqa: F811
    checked = 0
    for view in env.app.view_functions.values():
        for parameter in (
            getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
        ):
            schema = resolve_schema_instance(parameter["schema"])
            for field in _loaded_fields(schema, set()):
                checked += 1
                strict = LENIENT.get(type(field))
                assert strict is None, f"{field.name}: use app.schemas.fields.{strict}"
    assert checked > 20


@pytest.mark.parametrize(
    "body", [{"required": 0}, {"required": 1}, {"required": "yes"}, {"required": None}]
)
def test_booleans_are_json_booleans(cfg, body):  # noqa: F811
    resp = cfg.post("/draft/columns", {"key": "zip", "label": "Zip", **body})
    assert resp.status_code == 400 and "required" in resp.json["errors"], resp.json
    assert (
        cfg.post(
            "/draft/columns", {"key": "zip", "label": "Zip", "required": True}
        ).json["column"]["required"]
        is True
    )


def test_query_booleans_are_true_or_false(cfg):  # noqa: F811
    url = f"/api/v1/workspaces/acme/configs/{cfg.id}"
    for value in ("1", "yes", "True", ""):
        resp = cfg.env.client.delete(
            f"{url}?force={value}", headers=cfg.headers("admin")
        )
        assert resp.status_code == 400 and "force" in resp.json["errors"], value
    resp = cfg.env.client.delete(f"{url}?force=true", headers=cfg.headers("admin"))
    assert resp.status_code == 204


def test_strict_fields_refuse_look_alikes():
    assert Integer().deserialize(3) == 3 and Number().deserialize(1) == 1
    for field, value in ((Integer(), True), (Integer(), "3"), (Integer(), 3.0)):
        with pytest.raises(Exception, match="Not a valid"):
            field.deserialize(value)
    with pytest.raises(Exception, match="Not a valid"):
        Number().deserialize("1.5")
    assert QueryBoolean().deserialize("false") is False
    assert QueryInteger().deserialize("-7") == -7
    for value in (" 5", "+5", "5.0", "\u0665"):
        with pytest.raises(Exception, match="Not a valid"):
            QueryInteger().deserialize(value)


def test_405_names_the_allowed_methods(env):  # noqa: F811
    resp = env.client.open(
        "/api/v1/workspaces",
        method="TRACE",
        headers={"Authorization": f"Bearer {env.admin}"},
    )
    assert resp.status_code == 405 and resp.mimetype == PROBLEM
    assert set(resp.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_double_slash_is_not_redirected(cfg):  # noqa: F811
    """Werkzeug merged "//" with an HTML 308, which for a file path names another
    file ("files//etc" is not "files/etc")."""
    for url in ("/draft/files//etc/passwd", "/draft//files"):
        resp = cfg.get(url)
        assert resp.status_code == 404 and resp.mimetype == PROBLEM, url
    resp = cfg.get("/draft/files/columns//email.py")
    assert resp.status_code == 400 and "empty component" in resp.json["detail"]


def test_a_colon_verb_is_its_own_route(env):  # noqa: F811
    url = "/api/v1/workspaces/acme/jobs/abc:cancel"
    resp = env.client.open(url, method="OPTIONS")
    assert set(resp.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


@pytest.mark.parametrize(
    "header, tags",
    [
        ("*", ["*"]),
        ('"AbC"', ["abc"]),
        ('W/"a", b ,\t"c"', ["a", "b", "c"]),
        ('""', [""]),
        ("abc", ["abc"]),
    ],
)
def test_if_match_grammar_and_parser_agree(header, tags):
    assert valid_if_match(header) and parse_etags(header) == tags


@pytest.mark.parametrize(
    "header", ["", " ", ",", "a,", 'W/"', '"a" "b"', "a b", "*, a"]
)
def test_if_match_grammar_refuses(header):
    assert not valid_if_match(header), IF_MATCH_PATTERN


SEMVER_PIECES = st.sampled_from(
    ["0", "1", "01", "9", "10", ".", "-", "+", "a", "Z", "rc", "v", " ", "\n", "\u0663"]
)
# As JSON Schema reads it: "$" is the end of the string.
DOCUMENTED_SEMVER = re.compile(SEMVER_PATTERN.removesuffix("$") + r"\Z")


@settings(max_examples=500, deadline=None, database=None, derandomize=True)
@given(st.lists(SEMVER_PIECES, min_size=1, max_size=12).map("".join))
def test_the_documented_semver_pattern_is_what_publish_takes(text):
    documented = DOCUMENTED_SEMVER.match(text) is not None
    assert documented == semver.Version.is_valid(text), text


@pytest.mark.parametrize(
    "text, valid",
    [
        ("1.2.3", True),
        ("1.0.0-rc.1+b.5", True),
        ("0.0.0-0", True),
        ("\u0661.\u0662.\u0663", False),  # digits, but not ASCII ones
        ("1.2.3\n", False),
        ("v1.2.3", False),
        ("1.2", False),
        ("1.02.3", False),
    ],
)
def test_semver_examples(text, valid):
    assert (DOCUMENTED_SEMVER.match(text) is not None) == valid
    assert semver.Version.is_valid(text) == valid
