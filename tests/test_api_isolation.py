"""Workspace isolation: a token of workspace A, whatever its role, gets 404 from
every endpoint of workspace B (SPEC §4: existence is not leaked).

The endpoints are not listed by hand: every ``/api/v1/workspaces/<ws>/...`` rule of
the app's url_map at test time is called with B's real ids and a body that passes
the endpoint's request schema (built from the OpenAPI document), so a new endpoint
is covered the day it is registered.
"""

from __future__ import annotations

import io

import pytest

from tests.conftest import bearer
from tests.jobs_helpers import roster_xlsx
from tests.versions_helpers import create_config

ROLES = ("viewer", "author", "publisher", "admin")
PREFIX = "/api/v1/workspaces/<ws>"
# Values that pass the request schemas (patterns, enums) when a field needs one.
FIELD_VALUES = {
    "slug": "probe",
    "semver": "9.9.9",
    "path": "columns/probe.py",
    "key": "probe",
    "role": "viewer",
    "template": "default",
}


BODY_IDS = ("config_version_id", "input_document_id", "documentId")


def _example(schema: dict, components: dict, name: str = "", values=FIELD_VALUES):
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            key: _example(props[key], components, key, values)
            for key in schema.get("required", [])
        }
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    return values.get(name, "probe")


def _request_kwargs(doc: dict, rule: str, method: str, values=FIELD_VALUES) -> dict:
    """Body and required query args for one operation, from the OpenAPI doc."""
    path = rule.replace("<path:", "<").replace("<", "{").replace(">", "}")
    op = doc["paths"].get(path, {}).get(method.lower(), {})
    kwargs: dict = {}
    query = {
        p["name"]: "draft"
        for p in op.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }
    if query:
        kwargs["query_string"] = query
    content = op.get("requestBody", {}).get("content", {})
    components = doc["components"]["schemas"]
    for mimetype, spec in content.items():
        if mimetype == "multipart/form-data":
            kwargs["data"] = {"file": (io.BytesIO(b"PK\x03\x04"), "probe.xlsx")}
            kwargs["content_type"] = "multipart/form-data"
        else:
            kwargs["json"] = _example(spec.get("schema", {}), components, "", values)
            kwargs["content_type"] = mimetype
        break
    return kwargs


@pytest.fixture
def two_workspaces(client, workspace, admin_token):
    """A = the ``acme`` fixture; B = ``other`` with a config, a token, a document."""
    h = bearer(admin_token)
    other = client.post(
        "/api/v1/workspaces", json={"slug": "other", "name": "Other"}, headers=h
    ).json
    token = client.post(
        f"/api/v1/workspaces/{other['id']}/tokens",
        json={"name": "b-admin", "role": "admin"},
        headers=h,
    ).json
    b = {"id": other["id"], "slug": "other", "tokens": {"admin": token["secret"]}}
    cfg = create_config(client, b)
    versions = client.get(
        f"/api/v1/workspaces/other/configs/{cfg['id']}/versions",
        headers=bearer(token["secret"]),
    ).json
    upload = client.post(
        "/api/v1/workspaces/other/documents",
        data={"file": (io.BytesIO(roster_xlsx()), "probe.xlsx")},
        content_type="multipart/form-data",
        headers=bearer(token["secret"]),
    )
    assert upload.status_code == 201, upload.json  # a real id, not a made-up one
    published = client.post(
        f"/api/v1/workspaces/other/configs/{cfg['id']}/publish",
        json={"semver": "1.0.0", "message": "m"},
        headers=bearer(token["secret"]),
    )
    assert published.status_code == 201, published.json
    job = client.post(
        "/api/v1/workspaces/other/jobs",
        json={
            "config_version_id": published.json["id"],
            "input_document_id": upload.json["id"],
        },
        headers=bearer(token["secret"]),
    )
    assert job.status_code == 202, job.json
    ids = {
        "ws": other["id"],
        "config_id": cfg["id"],
        "version_id": versions[0]["id"],
        "path": "manifest.json",
        "token_id": token["id"],
        "document_id": upload.json["id"],
        "job_id": job.json["id"],
        # ids that travel in request bodies
        "config_version_id": published.json["id"],
        "input_document_id": upload.json["id"],
        "documentId": upload.json["id"],
    }
    return workspace, b, ids


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(PREFIX):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, ids: dict) -> str:
    values = {arg: ids.get(arg, "probe") for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_workspace_endpoint_is_404_for_other_workspaces(
    app, client, two_workspaces
):
    a, _b, ids = two_workspaces
    doc = client.get("/api/v1/openapi.json").json
    seen, failures = 0, []
    for rule, method in _rules(app):
        for role in ROLES:
            for ws_ref in (ids["ws"], "other") if role == "admin" else (ids["ws"],):
                url = _url(rule, {**ids, "ws": ws_ref})
                kwargs = _request_kwargs(doc, rule.rule, method)  # fresh file objects
                resp = client.open(
                    url, method=method, headers=bearer(a["tokens"][role]), **kwargs
                )
                seen += 1
                if resp.status_code != 404:
                    failures.append((role, method, url, resp.status_code))
    assert seen >= 4 * 20, seen  # the url_map really was walked
    assert failures == []


def test_the_same_requests_reach_workspace_b_with_its_own_token(
    app, client, two_workspaces
):
    # Control: with B's own token the substituted ids resolve, so the 404s above
    # come from isolation, not from bad ids.
    _a, b, ids = two_workspaces
    ok = []
    for rule, method in _rules(app):
        if method != "GET":
            continue
        resp = client.get(_url(rule, ids), headers=bearer(b["tokens"]["admin"]))
        ok.append((rule.rule, resp.status_code))
    must = ("/configs/<config_id>", "/versions/<version_id>/files/<path:path>")
    for rule, status in ok:
        if rule.endswith(must):
            assert status == 200, (rule, status)
    assert sum(status == 200 for _rule, status in ok) >= 8, ok


def test_ids_of_another_workspace_are_404_under_the_tokens_own_workspace(
    app, client, two_workspaces
):
    # The other way round: A's own workspace in the URL, B's config, version,
    # document, job and token ids in the path or the body. A role too small may
    # be told so (403 does not depend on the id); nothing of B may answer.
    a, _b, ids = two_workspaces
    doc = client.get("/api/v1/openapi.json").json
    values = {**FIELD_VALUES, **{key: ids[key] for key in BODY_IDS}}
    seen, failures = 0, []
    for rule, method in _rules(app):
        kwargs = _request_kwargs(doc, rule.rule, method, values)
        carries_ids = set(rule.arguments) - {"ws"} or any(
            key in (kwargs.get("json") or {}) for key in BODY_IDS
        )
        if not carries_ids:
            continue  # e.g. POST /configs: nothing of B's to point at
        for role in ROLES:
            kwargs = _request_kwargs(doc, rule.rule, method, values)
            url = _url(rule, {**ids, "ws": a["slug"]})
            resp = client.open(
                url, method=method, headers=bearer(a["tokens"][role]), **kwargs
            )
            seen += 1
            allowed = {404} if role == "admin" else {403, 404}
            if resp.status_code not in allowed:
                failures.append((role, method, url, resp.status_code))
    assert seen >= 4 * 20, seen
    assert failures == []
