"""Renaming and deleting workspaces (instance admin): what a delete takes with it,
and its refusal without ?force=true."""

from __future__ import annotations

from tests.conftest import bearer
from tests.jobs_helpers import (
    create_config,
    publish,
    roster_xlsx,
    upload,
    wait_for_job,
)


def test_rename_a_workspace(client, workspace, admin_token):
    h = bearer(admin_token)
    resp = client.patch(
        "/api/v1/workspaces/acme",
        json={"slug": "acme-co", "name": "Acme Co"},
        headers=h,
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["slug"] == "acme-co" and resp.json["name"] == "Acme Co"
    assert client.get("/api/v1/workspaces/acme", headers=h).status_code == 404
    # Its tokens still work under the new slug; the name alone can change too.
    viewer = bearer(workspace["tokens"]["viewer"])
    assert client.get("/api/v1/workspaces/acme-co", headers=viewer).status_code == 200
    resp = client.patch(
        f"/api/v1/workspaces/{workspace['id']}", json={"name": "Acme"}, headers=h
    )
    assert resp.status_code == 200 and resp.json["slug"] == "acme-co"


def test_rename_error_paths(client, workspace, admin_token):
    h = bearer(admin_token)
    client.post("/api/v1/workspaces", json={"slug": "other", "name": "O"}, headers=h)
    url = "/api/v1/workspaces/acme"
    assert client.patch(url, json={"slug": "other"}, headers=h).status_code == 409
    assert client.patch(url, json={}, headers=h).json["slug"] == "acme"  # no-op
    assert client.patch(url, json={"slug": "Bad!"}, headers=h).status_code == 400
    assert client.patch(url, json={"name": ""}, headers=h).status_code == 400
    admin = bearer(workspace["tokens"]["admin"])  # a workspace admin is not enough
    assert client.patch(url, json={"name": "x"}, headers=admin).status_code == 403
    other = client.post(
        "/api/v1/workspaces/other/tokens",
        json={"name": "o", "role": "admin"},
        headers=h,
    ).json["secret"]
    assert (
        client.patch(url, json={"name": "x"}, headers=bearer(other)).status_code == 404
    )
    assert client.patch(url, json={"name": "x"}).status_code == 401
    missing = client.patch("/api/v1/workspaces/nope", json={"name": "x"}, headers=h)
    assert missing.status_code == 404


def test_delete_an_empty_workspace(client, admin_token):
    h = bearer(admin_token)
    client.post("/api/v1/workspaces", json={"slug": "tmp", "name": "T"}, headers=h)
    token = client.post(
        "/api/v1/workspaces/tmp/tokens", json={"name": "t", "role": "admin"}, headers=h
    ).json["secret"]
    assert client.delete("/api/v1/workspaces/tmp", headers=h).status_code == 204
    assert client.get("/api/v1/workspaces/tmp", headers=h).status_code == 404
    assert client.get("/api/v1/workspaces", headers=bearer(token)).status_code == 401


def test_delete_with_contents_needs_force_and_takes_everything(
    app, client, workspace, admin_token
):
    h, t = bearer(admin_token), workspace["tokens"]
    config = create_config(client, "acme", t["author"])
    version = publish(client, "acme", config["id"], t["publisher"])
    doc = upload(client, "acme", t["author"], roster_xlsx(2)).json
    job = client.post(
        "/api/v1/workspaces/acme/jobs",
        json={"config_version_id": version["id"], "input_document_id": doc["id"]},
        headers=bearer(t["author"]),
    ).json
    done = wait_for_job(client, "acme", job["id"], t["author"])
    assert done["status"] == "succeeded", done
    data = app.config["DATA_DIR"]
    repo = data / "repos" / workspace["id"] / f"{config['id']}.git"
    blob = data / "documents" / doc["sha256"][:2] / doc["sha256"]
    assert repo.is_dir() and blob.is_file() and (data / "jobs" / job["id"]).is_dir()

    refused = client.delete("/api/v1/workspaces/acme", headers=h)
    assert refused.status_code == 409
    assert refused.json["holds"] == {"configs": 1, "documents": 1, "jobs": 1}
    admin = bearer(t["admin"])
    assert client.delete("/api/v1/workspaces/acme", headers=admin).status_code == 403

    assert (
        client.delete("/api/v1/workspaces/acme?force=true", headers=h).status_code
        == 204
    )
    assert not repo.exists() and not blob.exists()
    assert not (data / "jobs" / job["id"]).exists()
    assert client.get("/api/v1/workspaces", headers=h).json == []
    assert client.get("/api/v1/workspaces", headers=admin).status_code == 401


def test_delete_keeps_bytes_another_workspace_uploaded_too(
    client, workspace, admin_token
):
    h = bearer(admin_token)
    client.post("/api/v1/workspaces", json={"slug": "other", "name": "O"}, headers=h)
    data = roster_xlsx(2)
    mine = upload(client, "acme", workspace["tokens"]["author"], data).json
    theirs = upload(client, "other", admin_token, data).json
    assert mine["sha256"] == theirs["sha256"]
    url = "/api/v1/workspaces/acme?force=true"
    assert client.delete(url, headers=h).status_code == 204
    content = client.get(
        f"/api/v1/workspaces/other/documents/{theirs['id']}/content", headers=h
    )
    assert content.status_code == 200 and content.data == data


def test_me_says_who_the_token_is(client, workspace, admin_token):
    me = client.get("/api/v1/me", headers=bearer(admin_token)).json
    assert me["instance_admin"] is True and me["workspace"] is None
    me = client.get("/api/v1/me", headers=bearer(workspace["tokens"]["author"])).json
    assert (me["name"], me["role"], me["instance_admin"]) == (
        "author-bot",
        "author",
        False,
    )
    assert me["workspace"]["slug"] == "acme" and "secret" not in me
    assert client.get("/api/v1/me").status_code == 401
