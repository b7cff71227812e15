# ruff: noqa: F811 - pytest fixtures imported from tests.draft_helpers
"""Draft files over HTTP: listing, reading with ETags, create, save, delete."""

from __future__ import annotations

import base64
import hashlib

import pytest

from app.services.tokens import create_token
from app.web import get_store
from repos.types import Author
from tests.conftest import bearer, make_app
from tests.draft_helpers import Env, cfg, env, new_config  # noqa: F401 - fixtures

EMAIL = "columns/email.py"


def _repo(cfg):
    with cfg.env.app.app_context():
        ws = cfg.env.client.get(
            "/api/v1/workspaces/acme", headers=bearer(cfg.env.admin)
        ).json
        return get_store().open(ws["id"], cfg.id)


def test_list_files_gives_path_sha_size_language(cfg):
    resp = cfg.get("/draft/files", role="viewer")
    assert resp.status_code == 200
    by_path = {f["path"]: f for f in resp.json}
    assert set(by_path) >= {"manifest.json", "run.py", EMAIL, "table/transform.py"}
    assert by_path[EMAIL]["language"] == "python"
    assert by_path["manifest.json"]["language"] == "json"
    assert len(by_path[EMAIL]["sha"]) == 40 and by_path[EMAIL]["size"] > 0
    assert set(by_path[EMAIL]) == {"path", "sha", "size", "language"}


def test_read_file_has_code_hashes_and_quoted_etag(cfg):
    resp = cfg.get(f"/draft/files/{EMAIL}", role="viewer")
    assert resp.status_code == 200
    body = resp.json
    data = body["code"].encode()
    assert resp.headers["ETag"] == f'"{body["sha"]}"'
    assert body["sha"] == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["size"] == len(data) and body["language"] == "python"
    assert body["binary"] is False and body["content"] is None
    assert body["encoding"] == "utf-8"


@pytest.mark.parametrize(
    "form", ['"{sha}"', "{sha}", 'W/"{sha}"', '"0000", "{sha}"', "*", '"{sha256}"']
)
def test_if_none_match_gives_304_in_every_etag_form(cfg, form):
    file = cfg.file(EMAIL)
    sha = file["sha"]
    resp = cfg.get(f"/draft/files/{EMAIL}", **{"If-None-Match": form.format(**file)})
    assert resp.status_code == 304 and resp.data == b""
    assert resp.headers["ETag"] == f'"{sha}"'


def test_if_none_match_with_an_old_etag_gives_the_file(cfg):
    resp = cfg.get(f"/draft/files/{EMAIL}", **{"If-None-Match": '"' + "0" * 40 + '"'})
    assert resp.status_code == 200 and resp.json["code"]


def test_read_missing_or_unsafe_path(cfg):
    assert cfg.get("/draft/files/columns/nope.py").status_code == 404
    resp = cfg.get("/draft/files/a/.git/config")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


def test_binary_file_is_listed_and_read_as_base64(cfg):
    blob = b"\xff\xfe\x00binary"
    _repo(cfg).write_file("data/blob.bin", blob, author=_author(), create=True)
    listing = {f["path"]: f for f in cfg.get("/draft/files").json}
    assert listing["data/blob.bin"]["size"] == len(blob)
    body = cfg.file("data/blob.bin")
    assert body["binary"] is True and body["code"] is None
    assert body["language"] == "binary"
    assert body["encoding"] == "base64"
    assert base64.b64decode(body["content"]) == blob


def _author():
    return Author("test", "test@example.com")


def test_create_column_file_defaults_to_column_template(cfg):
    path = "columns/postal_code.py"
    resp = cfg.post("/draft/files", {"path": path})
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert resp.headers["Location"].endswith(f"/configs/{cfg.id}/draft/files/{path}")
    assert resp.headers["ETag"] == f'"{body["sha"]}"'
    assert body["warnings"] == [] and len(body["commit"]) == 40
    code = cfg.file(path)["code"]
    assert "def detect_header" in code and "Postal code" in code
    assert (
        cfg.env.client.get(resp.headers["Location"], headers=cfg.headers()).json["sha"]
        == body["sha"]
    )


def test_create_with_template_code_or_blank(cfg):
    r = cfg.post("/draft/files", {"path": "table/t2.py", "template": "table_transform"})
    assert r.status_code == 201
    assert "def transform_table" in cfg.file("table/t2.py")["code"]
    r = cfg.post("/draft/files", {"path": "notes/readme.md"})
    assert r.status_code == 201 and cfg.file("notes/readme.md")["code"] == ""
    assert cfg.file("notes/readme.md")["language"] == "markdown"
    r = cfg.post("/draft/files", {"path": "lib/helpers.py", "code": "import os\n"})
    assert r.status_code == 201
    assert [w["code"] for w in r.json["warnings"]] == ["import"]
    assert r.json["warnings"][0]["line"] == 1


def test_create_errors(cfg):
    assert cfg.post("/draft/files", {"path": EMAIL}).status_code == 409
    assert cfg.post("/draft/files", {"path": "manifest.json"}).status_code == 409
    cases = [
        {"path": "x.py", "template": "nope"},
        {"path": "x.py", "template": "blank", "code": "x = 1"},
        {"path": "../x.py"},
        {"path": "/abs.py"},
        {"path": "a/.git/x"},
        {"code": "no path"},
        {"path": "x.py", "code": "\ud800"},
    ]
    for body in cases:
        resp = cfg.post("/draft/files", body)
        assert resp.status_code == 400, (body, resp.json)
        assert resp.mimetype == "application/problem+json"
    assert cfg.post("/draft/files", {"path": "x.py"}, role="viewer").status_code == 403
    too_big = "#" * (cfg.env.app.config["MAX_FILE_BYTES"] + 1)
    assert (
        cfg.post("/draft/files", {"path": "big.py", "code": too_big}).status_code == 413
    )
    assert cfg.get("/draft/files/big.py").status_code == 404


def test_put_with_every_etag_form(cfg):
    for i, form in enumerate(['"{sha}"', "{sha}", 'W/"{sha}"', "{sha256}"]):
        current = cfg.file(EMAIL)
        code = f"# version {i}\n"
        resp = cfg.put(EMAIL, code, **{"If-Match": form.format(**current)})
        assert resp.status_code == 200, (form, resp.json)
        body = resp.json
        assert resp.headers["ETag"] == f'"{body["sha"]}"'  # always the blob id
        assert body["sha256"] == hashlib.sha256(code.encode()).hexdigest()
        assert body["size"] == len(code) and body["warnings"] == []
        assert cfg.file(EMAIL)["code"] == code and cfg.file(EMAIL)["sha"] == body["sha"]


def test_put_stale_missing_and_absent(cfg):
    old = cfg.file(EMAIL)["sha"]
    assert cfg.put(EMAIL, "x = 1\n", **{"If-Match": old}).status_code == 200
    resp = cfg.put(EMAIL, "x = 2\n", **{"If-Match": old})
    assert resp.status_code == 412
    assert resp.json["current_etag"] == cfg.file(EMAIL)["sha"]
    assert resp.headers["Retry-After"] == "1"  # the start of the client's backoff
    assert cfg.file(EMAIL)["code"] == "x = 1\n"
    resp = cfg.put(EMAIL, "x = 3\n")
    assert resp.status_code == 428 and resp.mimetype == "application/problem+json"
    empty = cfg.put(EMAIL, "x = 3\n", **{"If-Match": ""})
    assert empty.status_code == 400 and "If-Match" in empty.json["errors"]
    assert cfg.put("columns/none.py", "x", **{"If-Match": old}).status_code == 404


def test_put_returns_guardrail_warnings_and_commit_message(cfg):
    sha = cfg.file(EMAIL)["sha"]
    resp = cfg.put(EMAIL, "import os\nopen('x')\n", **{"If-Match": sha})
    assert resp.status_code == 200
    assert [w["code"] for w in resp.json["warnings"]] == ["import", "call"]
    head = _repo(cfg).history("draft", limit=1)[0]
    assert head.sha == resp.json["commit"] and head.message == f"Update {EMAIL}"
    assert head.author.name == "author-bot"


def test_put_limits_and_bad_bodies(cfg):
    sha = cfg.file(EMAIL)["sha"]
    limit = cfg.env.app.config["MAX_FILE_BYTES"]
    resp = cfg.put(EMAIL, "#" * (limit + 1), **{"If-Match": sha})
    assert resp.status_code == 413
    assert cfg.put(EMAIL, "\ud800", **{"If-Match": sha}).status_code == 400
    resp = cfg.env.client.put(
        f"{cfg.base}/draft/files/{EMAIL}",
        json={"text": "no code"},
        headers=cfg.headers(**{"If-Match": sha}),
    )
    assert resp.status_code == 400 and "code" in resp.json["errors"]
    huge = "\\u0041" * (limit + 1)  # six bytes on the wire per character
    resp = cfg.env.client.put(
        f"{cfg.base}/draft/files/{EMAIL}",
        data='{"code": "' + huge * 2 + '"}',
        content_type="application/json",
        headers=cfg.headers(**{"If-Match": sha}),
    )
    assert resp.status_code == 413
    assert cfg.file(EMAIL)["sha"] == sha


def test_roles_and_isolation(cfg):
    sha = cfg.file(EMAIL)["sha"]
    assert cfg.put(EMAIL, "x", role="viewer", **{"If-Match": sha}).status_code == 403
    assert cfg.delete(EMAIL, role="viewer").status_code == 403
    intruder = bearer(cfg.env.other_token)
    client = cfg.env.client
    for method, url, body in [
        ("get", "/draft/files", None),
        ("get", f"/draft/files/{EMAIL}", None),
        ("put", f"/draft/files/{EMAIL}", {"code": "x"}),
        ("delete", f"/draft/files/{EMAIL}", None),
        ("post", "/draft/files", {"path": "a.py", "code": "x"}),
    ]:
        headers = {**intruder, "If-Match": sha}
        resp = getattr(client, method)(cfg.base + url, json=body, headers=headers)
        assert resp.status_code == 404, (method, url)
    assert client.get(cfg.base + "/draft/files").status_code == 401
    other = f"/api/v1/workspaces/acme/configs/nope/draft/files/{EMAIL}"
    assert client.get(other, headers=cfg.headers()).status_code == 404


def test_delete_file(cfg):
    path = "lib/gone.py"
    sha = cfg.post("/draft/files", {"path": path, "code": "x = 1\n"}).json["sha"]
    assert cfg.delete(path, **{"If-Match": "0" * 40}).status_code == 412
    assert cfg.delete(path, **{"If-Match": f'"{sha}"'}).status_code == 204
    assert cfg.get(f"/draft/files/{path}").status_code == 404
    assert cfg.delete(path).status_code == 404
    cfg.post("/draft/files", {"path": path, "code": "y = 2\n"})
    assert cfg.delete(path).status_code == 204  # If-Match is optional
    assert _repo(cfg).history("draft", limit=1)[0].message == f"Delete {path}"


def test_delete_manifest_or_a_named_script_is_refused(cfg):
    resp = cfg.delete("manifest.json")
    assert resp.status_code == 409 and "a config needs one" in resp.json["detail"]
    resp = cfg.delete(EMAIL)
    assert resp.status_code == 409 and "columns[0].path" in resp.json["detail"]
    assert cfg.delete("table/transform.py").status_code == 409
    assert cfg.file(EMAIL)["code"]


def test_put_manifest_json_is_validated(cfg):
    current = cfg.file("manifest.json")
    resp = cfg.put(
        "manifest.json",
        '{"columns": [{"key": "Bad"}], "files_hash": "x"}',
        **{"If-Match": current["sha"]},
    )
    assert resp.status_code == 400
    errors = resp.json["errors"]
    assert {"files_hash", "columns[0].key", "columns[0].path"} <= set(errors)
    assert cfg.put("manifest.json", "{not json", **{"If-Match": current["sha"]}).json[
        "errors"
    ]["manifest"]
    text = current["code"].replace('"min_score": 1.0', '"min_score": 3')
    resp = cfg.put("manifest.json", text, **{"If-Match": current["sha"]})
    assert resp.status_code == 200 and cfg.file("manifest.json")["code"] == text
    assert cfg.manifest()[0]["min_score"] == 3


def test_save_and_read_on_sqlite_and_postgresql(tmp_path, db_url):
    """The draft API touches SQL only for auth and the config row: both backends."""
    app = make_app(tmp_path, db_url)
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        _token, admin = create_token(session, "admin")
        session.close()
    client = app.test_client()
    client.post(
        "/api/v1/workspaces", json={"slug": "acme", "name": "A"}, headers=bearer(admin)
    )
    env = Env(app, client, admin, {"author": admin}, admin)
    cfg = new_config(env)
    sha = cfg.file(EMAIL)["sha"]
    assert cfg.put(EMAIL, "x = 1\n", **{"If-Match": sha}).status_code == 200
    assert cfg.put(EMAIL, "x = 2\n", **{"If-Match": sha}).status_code == 412
    assert cfg.post("/draft/columns", {"key": "k", "label": "K"}).status_code == 201
    assert cfg.file(EMAIL)["code"] == "x = 1\n"


def test_empty_or_malformed_if_match_never_means_unguarded(cfg):
    """An If-Match that is present but empty or malformed is a 400 that says what
    is wrong with it (not the 428 of a missing one), on PATCH and DELETE too."""
    path = "lib/kept.py"
    cfg.post("/draft/files", {"path": path, "code": "x = 1\n"})
    for bad in ("", " ", ",", 'W/"', '"a" "b"'):
        resp = cfg.patch({"min_score": 2}, **{"If-Match": bad})
        assert resp.status_code == 400, bad
        assert resp.json["errors"] == {
            "If-Match": ["must be * or a comma-separated list of entity tags"]
        }
        assert cfg.delete(path, **{"If-Match": bad}).status_code == 400, bad
    assert cfg.get(f"/draft/files/{path}").status_code == 200
    assert cfg.manifest()[0].get("min_score") != 2
    # An empty quoted tag is a tag: it names no version, so the write is stale.
    assert cfg.delete(path, **{"If-Match": '""'}).status_code == 412
