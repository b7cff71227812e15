# ruff: noqa: F811 - pytest fixtures imported from tests.draft_helpers
"""``POST .../draft:plan``: phases, the column DAG, warnings and errors."""

from __future__ import annotations

import json

from app.web import get_store
from repos.types import Author
from tests.conftest import bearer
from tests.draft_helpers import cfg, env  # noqa: F401 - fixtures

PHASES = [
    "extract",
    "run_start",
    "prepare",
    "detect",
    "map",
    "transform",
    "transform_table",
    "validate",
    "run_end",
    "write",
]


def _write_manifest_behind_the_api(cfg, manifest):
    """Write a manifest the API would refuse (as an old or external tree might)."""
    with cfg.env.app.app_context():
        ws = cfg.env.client.get(
            "/api/v1/workspaces/acme", headers=bearer(cfg.env.admin)
        ).json
        repo = get_store().open(ws["id"], cfg.id)
        data = (
            manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        )
        repo.write_file("manifest.json", data, author=Author("t", "t@example.com"))


def test_plan_of_the_scaffold(cfg):
    resp = cfg.post("/draft:plan", role="viewer")
    assert resp.status_code == 200, resp.json
    assert resp.json == {
        "phases": PHASES,
        "dag": [
            {
                "key": "email",
                "label": "Email",
                "path": "columns/email.py",
                "ordinal": 1,
                "depends_on": [],
            }
        ],
        "warnings": [],
        "errors": [],
    }


def test_dag_follows_depends_on_and_skips_disabled_columns(cfg):
    for key in ("alpha", "beta", "gamma"):
        assert cfg.post("/draft/columns", {"key": key, "label": key}).status_code == 201
    manifest, _ = cfg.manifest()
    cols = {c["key"]: c for c in manifest["columns"]}
    cols["email"]["depends_on"] = ["gamma"]
    cols["alpha"]["depends_on"] = ["email"]
    cols["beta"]["enabled"] = False
    assert cfg.patch({"columns": list(cols.values())}).status_code == 200
    dag = cfg.post("/draft:plan").json["dag"]
    assert [n["key"] for n in dag] == ["gamma", "email", "alpha"]
    assert dag[1]["depends_on"] == ["gamma"]


def test_guardrail_findings_are_warnings(cfg):
    sha = cfg.file("columns/email.py")["sha"]
    cfg.put("columns/email.py", "import os\n", **{"If-Match": sha})
    cfg.post("/draft/files", {"path": "lib/broken.py", "code": "def (:\n"})
    plan = cfg.post("/draft:plan").json
    found = {(w["source"], w["path"], w["code"]) for w in plan["warnings"]}
    assert found == {
        ("guardrail", "columns/email.py", "import"),
        ("guardrail", "lib/broken.py", "syntax"),
    }
    assert plan["errors"] == [] and [n["key"] for n in plan["dag"]] == ["email"]
    # Modules the manifest pins are importable, at save time as at publish.
    assert cfg.patch({"pins": {"os": "1.0"}}).status_code == 200
    plan = cfg.post("/draft:plan").json
    assert [w["path"] for w in plan["warnings"]] == ["lib/broken.py"]
    sha = cfg.file("columns/email.py")["sha"]
    resp = cfg.put("columns/email.py", "import os\nimport sys\n", **{"If-Match": sha})
    assert [w["message"] for w in resp.json["warnings"]] == [
        "import of 'sys' is not allowed"
    ]


def test_manifest_findings_and_blocking_errors(cfg):
    manifest, _ = cfg.manifest()
    manifest["colour"] = "blue"
    manifest["columns"][0]["path"] = "columns/missing.py"
    _write_manifest_behind_the_api(cfg, manifest)
    plan = cfg.post("/draft:plan").json
    messages = [
        f"{w['where']}: {w['message']}"
        for w in plan["warnings"]
        if w["source"] == "manifest"
    ]
    assert "colour: unknown top-level key" in messages
    assert any("columns/missing.py" in m for m in messages)
    assert plan["errors"] == [] and [n["key"] for n in plan["dag"]] == ["email"]

    manifest["columns"][0]["depends_on"] = ["email"]
    manifest["columns"].append(
        {"key": "b", "path": "columns/email.py", "ordinal": 2, "depends_on": ["email"]}
    )
    manifest["columns"][0]["depends_on"] = ["b"]
    _write_manifest_behind_the_api(cfg, manifest)
    plan = cfg.post("/draft:plan").json
    assert [e["code"] for e in plan["errors"]] == ["cycle"] and plan["dag"] == []
    assert not any("cycle" in w["message"] for w in plan["warnings"])

    _write_manifest_behind_the_api(cfg, b"{broken")
    plan = cfg.post("/draft:plan").json
    assert [e["code"] for e in plan["errors"]] == ["json"] and plan["dag"] == []
    assert cfg.get("/draft/manifest").status_code == 409
    assert cfg.patch({"name": "x"}).status_code == 400
    resp = cfg.post("/draft/columns", {"key": "k", "label": "K"})
    assert resp.status_code == 400 and resp.json["errors"]["manifest"]


def test_plan_auth_and_isolation(cfg):
    client = cfg.env.client
    assert client.post(cfg.base + "/draft:plan").status_code == 401
    resp = client.post(cfg.base + "/draft:plan", headers=bearer(cfg.env.other_token))
    assert resp.status_code == 404
    missing = "/api/v1/workspaces/acme/configs/nope/draft:plan"
    assert client.post(missing, headers=cfg.headers()).status_code == 404
    assert (
        client.get(cfg.base + "/draft:plan", headers=cfg.headers()).status_code == 405
    )


def test_a_column_script_the_manifest_forgot_is_a_warning(cfg):
    cfg.post("/draft/files", {"path": "columns/phone.py"})
    warnings = cfg.post("/draft:plan", role="viewer").json["warnings"]
    assert [w["code"] for w in warnings] == ["unused_column_script"]
    assert warnings[0]["path"] == "columns/phone.py"
    assert "never runs" in warnings[0]["message"]
