"""Workspaces and tokens: auth, roles, isolation."""

from tests.conftest import bearer


def test_healthz_needs_no_token(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_api_without_or_with_bad_token_is_401_problem_json(client):
    for headers in ({}, bearer("nope"), {"Authorization": "Basic eDp5"}):
        resp = client.get("/api/v1/workspaces", headers=headers)
        assert resp.status_code == 401
        assert resp.mimetype == "application/problem+json"
        assert resp.json["status"] == 401 and resp.json["title"]
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_document_is_public(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/workspaces" in doc["paths"]


def test_instance_admin_creates_workspace_and_tokens(client, workspace, admin_token):
    resp = client.get("/api/v1/workspaces", headers=bearer(admin_token))
    assert [w["slug"] for w in resp.json] == ["acme"]
    resp = client.get("/api/v1/workspaces/acme/tokens", headers=bearer(admin_token))
    assert {t["role"] for t in resp.json} == {"viewer", "author", "publisher", "admin"}
    assert all("secret" not in t for t in resp.json)


def test_duplicate_workspace_is_409_and_bad_slug_is_400(client, admin_token):
    h = bearer(admin_token)
    assert (
        client.post(
            "/api/v1/workspaces", json={"slug": "a", "name": "A"}, headers=h
        ).status_code
        == 201
    )
    resp = client.post("/api/v1/workspaces", json={"slug": "a", "name": "A"}, headers=h)
    assert resp.status_code == 409
    for bad in ("Bad Slug!", "a\n", "-a", ""):
        resp = client.post(
            "/api/v1/workspaces", json={"slug": bad, "name": "B"}, headers=h
        )
        assert resp.status_code == 400 and "slug" in resp.json["errors"], bad


def test_workspace_token_cannot_create_workspaces(client, workspace):
    resp = client.post(
        "/api/v1/workspaces",
        json={"slug": "b", "name": "B"},
        headers=bearer(workspace["tokens"]["admin"]),
    )
    assert resp.status_code == 403


def test_token_roles_and_revocation(client, workspace):
    t = workspace["tokens"]
    url = f"/api/v1/workspaces/{workspace['slug']}/tokens"
    assert client.get(url, headers=bearer(t["publisher"])).status_code == 403
    created = client.post(
        url, json={"name": "ci", "role": "author"}, headers=bearer(t["admin"])
    )
    assert created.status_code == 201 and created.json["secret"].startswith("ade_")
    secret = created.json["secret"]
    assert (
        client.get(
            f"/api/v1/workspaces/{workspace['id']}", headers=bearer(secret)
        ).status_code
        == 200
    )
    resp = client.delete(f"{url}/{created.json['id']}", headers=bearer(t["admin"]))
    assert resp.status_code == 204
    assert (
        client.get(
            f"/api/v1/workspaces/{workspace['id']}", headers=bearer(secret)
        ).status_code
        == 401
    )
    assert (
        client.delete(
            f"{url}/{created.json['id']}", headers=bearer(t["admin"])
        ).status_code
        == 404
    )


def test_other_workspace_is_404_not_403(client, workspace, admin_token):
    h = bearer(admin_token)
    client.post("/api/v1/workspaces", json={"slug": "other", "name": "O"}, headers=h)
    intruder = workspace["tokens"]["admin"]
    for path in ("/api/v1/workspaces/other", "/api/v1/workspaces/other/tokens"):
        assert client.get(path, headers=bearer(intruder)).status_code == 404
    assert (
        client.get("/api/v1/workspaces/nope", headers=bearer(intruder)).status_code
        == 404
    )


def test_oversized_json_body_is_413_problem_json(client, admin_token):
    body = '{"slug": "big", "name": "' + "x" * (2 * 1024 * 1024) + '"}'
    resp = client.post(
        "/api/v1/workspaces",
        data=body,
        content_type="application/json",
        headers=bearer(admin_token),
    )
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"
