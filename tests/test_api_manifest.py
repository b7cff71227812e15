# ruff: noqa: F811 - pytest fixtures imported from tests.draft_helpers
"""The draft manifest (GET/PATCH, RFC 7386) and Add Column."""

from __future__ import annotations

import hashlib
import json

import pytest

from app.services.merge_patch import merge_patch
from app.web import get_store
from tests.conftest import bearer
from tests.draft_helpers import cfg, env  # noqa: F401 - fixtures


def _history(cfg, limit=1):
    with cfg.env.app.app_context():
        ws = cfg.env.client.get(
            "/api/v1/workspaces/acme", headers=bearer(cfg.env.admin)
        ).json
        return get_store().open(ws["id"], cfg.id).history("draft", limit=limit)


# RFC 7386 appendix A, every example.
RFC_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_CASES)
def test_merge_patch_rfc7386_examples(target, patch, result):
    before = json.dumps(target)
    assert merge_patch(target, patch) == result
    assert json.dumps(target) == before  # the target is not modified


def test_get_manifest_with_blob_id_etag(cfg):
    resp = cfg.get("/draft/manifest", role="viewer")
    assert resp.status_code == 200
    assert resp.json["columns"][0]["key"] == "email"
    assert resp.headers["ETag"] == f'"{cfg.file("manifest.json")["sha"]}"'
    assert resp.json == json.loads(cfg.file("manifest.json")["code"])


@pytest.mark.parametrize("ctype", ["application/merge-patch+json", "application/json"])
def test_patch_merges_and_returns_the_new_manifest(cfg, ctype):
    patch = {"min_score": 2.5, "pins": None, "hints": {"header_row": 3}}
    resp = cfg.patch(patch, ctype=ctype)
    assert resp.status_code == 200, resp.json
    manifest = resp.json
    assert manifest["min_score"] == 2.5 and "pins" not in manifest
    assert manifest["hints"]["header_row"] == 3
    assert manifest["hints"]["sample_rows"] == 100  # merged, not replaced
    stored = cfg.file("manifest.json")
    assert json.loads(stored["code"]) == manifest
    assert resp.headers["ETag"] == f'"{stored["sha"]}"'
    assert _history(cfg)[0].message == "Update manifest.json"


def test_patch_invalid_result_lists_every_problem_and_changes_nothing(cfg):
    before = cfg.file("manifest.json")["sha"]
    patch = {
        "min_score": "high",
        "files_hash": "abc",
        "hints": {"header_row": 0},
        "columns": [
            {"key": "a", "path": "columns/a.py", "ordinal": 1, "depends_on": ["b"]},
            {"key": "b", "path": "columns/email.py", "ordinal": 1, "depends_on": ["a"]},
        ],
    }
    resp = cfg.patch(patch)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    errors = resp.json["errors"]
    assert {
        "min_score",
        "files_hash",
        "hints.header_row",
        "columns[0].path",
        "columns[1].ordinal",
        "columns",
    } <= set(errors)
    assert any("cycle" in m for m in errors["columns"])
    assert cfg.file("manifest.json")["sha"] == before


def test_patch_if_match_blob_id_sha256_and_stale(cfg):
    current = cfg.file("manifest.json")
    stale = current["sha"]
    resp = cfg.patch({"name": "One"}, **{"If-Match": f'"{current["sha"]}"'})
    assert resp.status_code == 200
    sha256 = hashlib.sha256(cfg.file("manifest.json")["code"].encode()).hexdigest()
    assert cfg.patch({"name": "Two"}, **{"If-Match": sha256}).status_code == 200
    resp = cfg.patch({"name": "Three"}, **{"If-Match": stale})
    assert resp.status_code == 412
    assert resp.json["current_etag"] == cfg.file("manifest.json")["sha"]
    assert cfg.manifest()[0]["name"] == "Two"


def test_patch_bad_requests(cfg):
    assert cfg.patch({"name": "x"}, ctype="text/plain").status_code == 415
    assert cfg.patch("{not json").status_code == 400
    assert cfg.patch("[1, 2]").status_code == 400  # a manifest must stay an object
    assert cfg.patch({"name": "\ud800"}).status_code == 400
    assert cfg.patch({"name": "x"}, role="viewer").status_code == 403
    intruder = {**bearer(cfg.env.other_token)}
    client = cfg.env.client
    assert client.get(cfg.base + "/draft/manifest", headers=intruder).status_code == 404
    resp = client.patch(cfg.base + "/draft/manifest", json={}, headers=intruder)
    assert resp.status_code == 404
    assert client.get(cfg.base + "/draft/manifest").status_code == 401


def test_add_column_creates_script_and_entry_in_one_commit(cfg):
    resp = cfg.post(
        "/draft/columns", {"key": "member_id", "label": 'Member "#"', "required": True}
    )
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["path"] == "columns/member_id.py" and body["key"] == "member_id"
    assert resp.headers["ETag"] == f'"{body["sha"]}"'
    assert resp.headers["Location"].endswith("/draft/files/columns/member_id.py")
    assert body["column"] == {
        "key": "member_id",
        "label": 'Member "#"',
        "path": "columns/member_id.py",
        "ordinal": 2,
        "required": True,
        "enabled": True,
        "depends_on": [],
        "synonyms": [],
    }
    assert cfg.manifest()[0]["columns"][-1] == body["column"]
    assert "def detect_header" in cfg.file("columns/member_id.py")["code"]
    head = _history(cfg)[0]
    assert head.sha == body["commit"] and head.message == "Add column member_id"
    assert set(head.paths) == {"columns/member_id.py", "manifest.json"}
    resp = cfg.post("/draft/columns", {"key": "phone", "label": "Phone"})
    assert (
        resp.json["column"]["ordinal"] == 3 and resp.json["column"]["required"] is False
    )


def test_add_column_with_a_template_and_errors(cfg):
    r = cfg.post("/draft/columns", {"key": "notes", "label": "N", "template": "blank"})
    assert r.status_code == 201 and cfg.file("columns/notes.py")["code"] == ""
    assert cfg.post("/draft/columns", {"key": "email", "label": "E"}).status_code == 409
    cfg.post("/draft/files", {"path": "columns/orphan.py"})
    assert (
        cfg.post("/draft/columns", {"key": "orphan", "label": "O"}).status_code == 409
    )
    for body in (
        {"key": "Bad Key", "label": "x"},
        {"key": "ok\n", "label": "x"},
        {"key": "ok"},
        {"key": "ok", "label": ""},
        {"key": "ok", "label": "x", "template": "nope"},
        {"key": "ok", "label": "\ud800"},
    ):
        resp = cfg.post("/draft/columns", body)
        assert resp.status_code == 400, (body, resp.json)
    assert (
        cfg.post("/draft/columns", {"key": "v", "label": "V"}, "viewer").status_code
        == 403
    )
    keys = [c["key"] for c in cfg.manifest()[0]["columns"]]
    assert keys == ["email", "notes"]


def test_deeply_nested_json_is_a_400_not_a_500(cfg):
    abyss = "[" * 100_000 + "]" * 100_000  # beyond Python's recursion limit
    assert cfg.patch('{"name": ' + abyss + "}").status_code == 400
    resp = cfg.env.client.post(
        cfg.base + "/draft/files",
        data='{"path": "a.py", "code": ' + abyss + "}",
        content_type="application/json",
        headers=cfg.headers(),
    )
    assert resp.status_code == 400
    deep = '{"capabilities": {"resources": ' + '{"a": ' * 900 + "1" + "}" * 902
    resp = cfg.patch(deep)
    assert resp.status_code == 400 and "deeper" in resp.json["detail"]
    sha = cfg.file("manifest.json")["sha"]
    resp = cfg.put("manifest.json", deep, **{"If-Match": sha})
    assert resp.status_code == 400 and cfg.file("manifest.json")["sha"] == sha
