"""draft:move (rename a file in one commit, with If-Match) and draft:check (the
findings of a text without saving it)."""

from __future__ import annotations

from tests.conftest import bearer
from tests.draft_helpers import cfg, env  # noqa: F401 - fixtures

EMAIL = "columns/email.py"


def _move(cfg, src, dst, etag=None, role=None):  # noqa: F811
    hdrs = {} if etag is None else {"If-Match": f'"{etag}"'}
    return cfg.post("/draft:move", {"from": src, "to": dst}, role=role, **hdrs)


def _history(cfg):  # noqa: F811
    return cfg.get("/history").json


def test_move_a_named_column_script_updates_the_manifest_in_one_commit(cfg):  # noqa: F811
    sha = cfg.file(EMAIL)["sha"]
    before = len(_history(cfg))
    resp = _move(cfg, EMAIL, "columns/e_mail.py", sha)
    assert resp.status_code == 200, resp.json
    assert resp.json["path"] == "columns/e_mail.py" and resp.json["from"] == EMAIL
    assert resp.json["sha"] == sha and resp.json["manifest_updated"] is True
    assert resp.headers["ETag"] == f'"{sha}"'
    history = _history(cfg)
    assert len(history) == before + 1
    assert history[0]["message"] == f"Move {EMAIL} to columns/e_mail.py"
    assert set(history[0]["paths"]) == {EMAIL, "columns/e_mail.py", "manifest.json"}
    manifest, _ = cfg.manifest()
    assert [c["path"] for c in manifest["columns"]] == ["columns/e_mail.py"]
    assert cfg.get(f"/draft/files/{EMAIL}").status_code == 404
    assert cfg.file("columns/e_mail.py")["sha"] == sha


def test_move_an_unnamed_file_leaves_the_manifest(cfg):  # noqa: F811
    created = cfg.post("/draft/files", {"path": "lib/helpers.py", "code": "X = 1\n"})
    assert created.status_code == 201, created.json
    resp = _move(cfg, "lib/helpers.py", "lib/util.py", created.json["sha"])
    assert resp.status_code == 200, resp.json
    assert resp.json["manifest_updated"] is False
    assert cfg.file("lib/util.py")["code"] == "X = 1\n"


def test_move_refuses_what_the_manifest_cannot_follow(cfg):  # noqa: F811
    sha = cfg.file(EMAIL)["sha"]
    resp = _move(cfg, EMAIL, "lib/email.py", sha)
    assert resp.status_code == 400
    assert any("columns/" in m for m in resp.json["errors"]["columns[0].path"])
    assert cfg.file(EMAIL)["sha"] == sha  # nothing moved
    resp = _move(cfg, "manifest.json", "m.json", cfg.file("manifest.json")["sha"])
    assert resp.status_code == 400
    resp = _move(cfg, EMAIL, "manifest.json", sha)
    assert resp.status_code == 400
    assert _move(cfg, EMAIL, EMAIL, sha).status_code == 400
    assert _move(cfg, EMAIL, "../x.py", sha).status_code == 400


def test_move_error_paths(cfg, env):  # noqa: F811
    sha = cfg.file(EMAIL)["sha"]
    assert _move(cfg, EMAIL, "columns/x.py").status_code == 428
    stale = _move(cfg, EMAIL, "columns/x.py", "0" * 40)
    assert stale.status_code == 412 and stale.json["current_etag"] == sha
    assert _move(cfg, "columns/nope.py", "columns/x.py", sha).status_code == 404
    taken = _move(cfg, EMAIL, "run.py", sha)
    assert taken.status_code == 409
    assert _move(cfg, EMAIL, "columns/x.py", sha, role="viewer").status_code == 403
    outsider = env.client.post(
        f"{cfg.base}/draft:move",
        json={"from": EMAIL, "to": "columns/x.py"},
        headers={**bearer(env.other_token), "If-Match": sha},
    )
    assert outsider.status_code == 404
    anonymous = env.client.post(
        f"{cfg.base}/draft:move", json={"from": EMAIL, "to": "columns/x.py"}
    )
    assert anonymous.status_code == 401
    assert (
        cfg.post("/draft:move", {"to": "x.py"}, **{"If-Match": sha}).status_code == 400
    )


def test_check_reports_what_a_save_would_without_saving(cfg):  # noqa: F811
    before = _history(cfg)
    code = cfg.file(EMAIL)["code"] + "\nimport os\nopen('x')\n"
    resp = cfg.post("/draft:check", {"path": EMAIL, "code": code})
    assert resp.status_code == 200, resp.json
    problems = resp.json["problems"]
    assert [p["code"] for p in problems] == ["import", "call"]
    assert problems[0]["line"] == code.splitlines().index("import os") + 1
    assert _history(cfg) == before  # no commit
    saved = cfg.put(EMAIL, code, **{"If-Match": cfg.file(EMAIL)["sha"]})
    assert saved.json["warnings"] == problems  # the same findings as the save


def test_check_of_the_manifest_lists_the_problems_a_save_would_refuse(cfg):  # noqa: F811
    resp = cfg.post(
        "/draft:check", {"path": "manifest.json", "code": '{"name": "x", "colour": 1}'}
    )
    assert resp.status_code == 200
    wheres = {p["where"] for p in resp.json["problems"]}
    assert "colour" in wheres and "columns" in wheres
    bad = cfg.post("/draft:check", {"path": "manifest.json", "code": "{"})
    assert [p["code"] for p in bad.json["problems"]] == ["json"]
    ok = cfg.post(
        "/draft:check",
        {"path": "manifest.json", "code": cfg.file("manifest.json")["code"]},
    )
    assert ok.json["problems"] == []
    assert cfg.post("/draft:check", {"path": "notes.md", "code": "x"}).json == {
        "path": "notes.md",
        "problems": [],
    }


def test_check_error_paths(cfg, env):  # noqa: F811
    assert cfg.post("/draft:check", {"path": EMAIL}).status_code == 400
    assert cfg.post("/draft:check", {"path": "../a.py", "code": ""}).status_code == 400
    assert (
        cfg.post("/draft:check", {"path": EMAIL, "code": ""}, role="viewer").status_code
        == 403
    )
    outsider = env.client.post(
        f"{cfg.base}/draft:check",
        json={"path": EMAIL, "code": ""},
        headers=bearer(env.other_token),
    )
    assert outsider.status_code == 404
    big = "x" * (env.app.config["MAX_FILE_BYTES"] + 1)
    assert cfg.post("/draft:check", {"path": EMAIL, "code": big}).status_code == 413
    assert env.client.post(f"{cfg.base}/draft:check", json={}).status_code == 401


def test_script_api_is_served_to_any_token(env):  # noqa: F811
    resp = env.client.get("/api/v1/script-api", headers=bearer(env.tokens["viewer"]))
    assert resp.status_code == 200
    names = [h["name"] for h in resp.json["hooks"]]
    assert names[:2] == ["run_start", "prepare"] and "detect" in names
    assert env.client.get("/api/v1/script-api").status_code == 401
