"""A hostile caller: bodies that are JSON but not valid Unicode text or too large a
number, hostile upload names, and the data directory's permissions (the sandboxed
worker runs as another uid and must not read other workspaces' repos, documents or
the database)."""

from __future__ import annotations

import stat

import pytest

from tests.conftest import bearer, make_app
from tests.jobs_helpers import roster_xlsx, upload

HUGE_INT = "9" * 5000  # past CPython's int-from-string digit limit (4,300)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/workspaces", '{"slug": "sur", "name": "\\ud800"}'),
        ("/api/v1/workspaces/acme/configs", '{"slug": "sur", "title": "\\udcff"}'),
        ("/api/v1/workspaces/acme/tokens", '{"name": "\\ud800", "role": "viewer"}'),
        ("/api/v1/workspaces/acme/configs", '{"slug": "n", "title": ' + HUGE_INT + "}"),
        ("/api/v1/workspaces", '{"slug": "n", "name": "n", "x": -' + HUGE_INT + "}"),
    ],
)
def test_bodies_that_are_not_valid_text_are_400(
    client, workspace, admin_token, url, body
):
    resp = client.post(
        url, data=body, content_type="application/json", headers=bearer(admin_token)
    )
    assert resp.status_code == 400, resp.json
    assert resp.mimetype == "application/problem+json"


def test_merge_patch_with_a_huge_integer_is_400(client, workspace):
    token = workspace["tokens"]["admin"]
    cfg = client.post(
        "/api/v1/workspaces/acme/configs",
        json={"slug": "big", "title": "Big"},
        headers=bearer(token),
    ).json
    resp = client.patch(
        f"/api/v1/workspaces/acme/configs/{cfg['id']}/draft/manifest",
        data='{"min_score": ' + HUGE_INT + "}",
        content_type="application/merge-patch+json",
        headers=bearer(token),
    )
    assert resp.status_code == 400, resp.json


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("a\x00b.xlsx", "ab.xlsx"),
        ("tab\there.xlsx", "tabhere.xlsx"),
        ("evil\u202excod.xlsx", "evilxcod.xlsx"),  # a bidi override hides the type
        ("\x07\x1b.xlsx", ".xlsx"),
    ],
)
def test_upload_names_lose_control_and_format_characters(
    client, workspace, given, stored
):
    token = workspace["tokens"]["author"]
    resp = upload(client, "acme", token, roster_xlsx(), given)
    assert resp.status_code == 201, resp.json
    assert resp.json["filename"] == stored
    content = client.get(
        f"/api/v1/workspaces/acme/documents/{resp.json['id']}/content",
        headers=bearer(token),
    )
    disposition = content.headers["Content-Disposition"]
    assert not any(ord(ch) < 0x20 or ch == "\x7f" for ch in disposition)


def test_the_data_dir_is_private_to_the_service(tmp_path, sqlite_url):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as `mkdir ./data` under umask 022 leaves it
    make_app(tmp_path, sqlite_url)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_a_new_data_dir_is_private_too(tmp_path, sqlite_url):
    make_app(tmp_path, sqlite_url)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_code_nested_too_deeply_is_saved_with_a_warning_and_blocks_publish(
    client, workspace
):
    token = workspace["tokens"]["admin"]
    cfg = client.post(
        "/api/v1/workspaces/acme/configs",
        json={"slug": "deep", "title": "Deep"},
        headers=bearer(token),
    ).json
    base = f"/api/v1/workspaces/acme/configs/{cfg['id']}"
    resp = client.post(
        base + "/draft/files",
        json={"path": "columns/deep.py", "code": "x = " + "-" * 400_000 + "1\n"},
        headers=bearer(token),
    )
    assert resp.status_code == 201, resp.json
    assert [w["code"] for w in resp.json["warnings"]] == ["syntax"]
    assert client.post(base + "/draft:plan", headers=bearer(token)).status_code == 200
    resp = client.post(
        base + "/publish",
        json={"semver": "1.0.0", "message": "m"},
        headers=bearer(token),
    )
    assert resp.status_code == 400, resp.json


def test_expensive_endpoints_are_rate_limited_per_token(tmp_path, sqlite_url):
    """Past its per-token rate an upload is 429 problem+json with Retry-After;
    another token of the same workspace is not affected."""
    from tests.conftest import admin_secret_for

    app = make_app(tmp_path, sqlite_url, RATE_LIMIT_UPLOAD="3/minute")
    client = app.test_client()
    admin = admin_secret_for(app)
    client.post(
        "/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=bearer(admin)
    )
    tokens = [
        client.post(
            "/api/v1/workspaces/w/tokens",
            json={"name": f"a{i}", "role": "author"},
            headers=bearer(admin),
        ).json["secret"]
        for i in range(2)
    ]
    data = roster_xlsx()
    codes = [upload(client, "w", tokens[0], data).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    refused = upload(client, "w", tokens[0], data)
    assert refused.mimetype == "application/problem+json"
    assert refused.json["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert upload(client, "w", tokens[1], data).status_code == 201
