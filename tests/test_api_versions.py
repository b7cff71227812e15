"""Versions API: list, publish (validation, ordering, tag first), revert, files,
diff and history, with their error paths."""

from __future__ import annotations

import itertools

import pytest

from app import db
from tests.conftest import admin_secret_for, bearer, make_app
from tests.versions_helpers import (
    AUTHOR,
    assert_git_matches_sql,
    create_config,
    index_rows,
    make_workspace,
    repo_of,
    save,
    set_manifest,
    ws_url,
)

# One app and workspace for the module (building them is most of a test's time);
# every test gets its own config.
_slugs = itertools.count()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("versions")
    url = f"sqlite:///{tmp / 'ade.db'}"
    db.upgrade(url)
    return make_app(tmp, url)


@pytest.fixture(scope="module")
def workspace(app):
    return make_workspace(app.test_client(), admin_secret_for(app), "acme")


@pytest.fixture
def cfg(client, workspace):
    return create_config(client, workspace, slug=f"cfg{next(_slugs)}")


@pytest.fixture
def url(workspace, cfg):
    return f"{ws_url(workspace)}/configs/{cfg['id']}"


@pytest.fixture
def pub(workspace):
    return bearer(workspace["tokens"]["publisher"])


@pytest.fixture
def repo(app, workspace, cfg):
    return repo_of(app, workspace["id"], cfg["id"])


def publish(client, url, headers, semver, message="m"):
    return client.post(
        f"{url}/publish", json={"semver": semver, "message": message}, headers=headers
    )


def test_publish_tags_moves_main_and_deprecates_previous(client, app, url, pub, repo):
    first = publish(client, url, pub, "1.0.0", "Initial")
    assert first.status_code == 201
    v1 = first.json
    assert v1["status"] == "published" and v1["semver"] == "1.0.0"
    assert v1["files_hash"] == repo.tree_id("v1.0.0") == repo.tree_id("draft")
    assert v1["commit"] == repo.main_commit() == repo.resolve("draft")
    assert repo.tags()[0].message.strip() == "Initial"
    assert repo.tags()[0].tagger.name == "publisher-bot"
    assert (repo.path / "HEAD").read_text().strip() == "ref: refs/heads/main"

    new_commit = save(repo, "startup.py", "# v2\n")
    second = publish(client, url, pub, "1.1.0")
    assert second.status_code == 201 and second.json["commit"] == new_commit
    assert repo.main_commit() == new_commit
    listed = client.get(f"{url}/versions", headers=pub).json
    assert [(v["semver"], v["status"]) for v in listed] == [
        (None, "draft"),
        ("1.1.0", "published"),
        ("1.0.0", "deprecated"),
    ]
    assert listed[0]["files_hash"] == repo.tree_id("draft")
    assert listed[0]["commit"] == repo.resolve("draft")
    got = client.get(url, headers=pub).json
    assert got["published"]["semver"] == "1.1.0"
    assert_git_matches_sql(repo, index_rows(app, got["id"]))


def test_publishing_an_unchanged_tree_is_allowed(client, url, pub, repo):
    a = publish(client, url, pub, "1.0.0").json
    b = publish(client, url, pub, "1.0.1").json
    assert a["files_hash"] == b["files_hash"] and b["status"] == "published"
    assert {t.semver for t in repo.tags()} == {"1.0.0", "1.0.1"}


SEMVER_CASES = [
    ("1.0.0", 409),  # exists
    ("0.9.9", 409),  # lower
    ("1.0.0-rc.1", 409),  # a pre-release of 1.0.0 is lower than 1.0.0
    ("1.0.0+build.7", 409),  # build metadata does not make it greater
    ("1.0", 400),
    ("v1.0.1", 400),
    ("01.0.1", 400),
    ("1.0.1-rc.1", 201),  # last: it succeeds
]


def test_semver_must_be_valid_and_strictly_greater(client, url, pub):
    assert publish(client, url, pub, "1.0.0").status_code == 201
    for later, status in SEMVER_CASES:
        resp = publish(client, url, pub, later)
        assert resp.status_code == status, (later, resp.json)
        if status == 400:
            assert "semver" in resp.json["errors"]
        if status == 409:
            assert resp.mimetype == "application/problem+json"
            assert resp.json["highest"] == "1.0.0"


def test_publish_validates_manifest_guardrails_and_lists_every_problem(
    client, url, pub, repo
):
    save(
        repo,
        "columns/bad.py",
        "import os\n\ndef detect_x(**_):\n    return eval('1')\n",
    )
    set_manifest(repo, files_hash="abc", min_score="high")
    resp = publish(client, url, pub, "1.0.0")
    assert resp.status_code == 400
    errors = resp.json["errors"]
    assert any("files_hash" in m for m in errors["manifest.json"])
    assert any("min_score" in m for m in errors["manifest.json"])
    codes = {p["code"] for p in resp.json["problems"] if p["source"] == "guardrail"}
    assert {"import", "call"} <= codes
    assert len(errors["columns/bad.py"]) == 2
    assert repo.tags() == [] and repo.main_commit() is None


def test_publish_reports_bad_json_and_a_missing_manifest(client, url, pub, repo):
    save(repo, "manifest.json", "{not json")
    resp = publish(client, url, pub, "1.0.0")
    assert resp.status_code == 400
    assert "not valid JSON" in resp.json["errors"]["manifest.json"][0]
    repo.delete_file("manifest.json", author=AUTHOR)
    resp = publish(client, url, pub, "1.0.0")
    assert resp.json["errors"]["manifest.json"] == ["missing (every config needs one)"]


def test_publish_and_revert_auth_errors(client, workspace, url):
    t = workspace["tokens"]
    body = {"semver": "1.0.0", "message": "m"}
    for path in ("publish", "revert"):
        assert client.post(f"{url}/{path}", json=body).status_code == 401
        resp = client.post(f"{url}/{path}", json=body, headers=bearer(t["author"]))
        assert resp.status_code == 403
    missing = f"{ws_url(workspace)}/configs/nope"
    resp = client.post(f"{missing}/publish", json=body, headers=bearer(t["publisher"]))
    assert resp.status_code == 404
    resp = client.post(
        f"{url}/publish", json={"message": "m"}, headers=bearer(t["publisher"])
    )
    assert resp.status_code == 400 and "semver" in resp.json["errors"]


def test_revert_moves_main_back_and_swaps_statuses(client, app, cfg, url, pub, repo):
    assert client.post(f"{url}/revert", headers=pub).status_code == 409  # none
    c1 = publish(client, url, pub, "1.0.0").json["commit"]
    resp = client.post(f"{url}/revert", headers=pub)
    assert resp.status_code == 409 and "nothing to revert" in resp.json["detail"]
    save(repo, "startup.py", "# 2\n")
    publish(client, url, pub, "2.0.0")
    save(repo, "startup.py", "# 3\n")
    publish(client, url, pub, "3.0.0")
    resp = client.post(f"{url}/revert", headers=pub)
    assert resp.status_code == 200
    assert resp.json["published"]["semver"] == "2.0.0"
    assert resp.json["deprecated"]["semver"] == "3.0.0"
    assert resp.json["deprecated"]["status"] == "deprecated"
    resp = client.post(f"{url}/revert", headers=pub)
    assert resp.json["published"]["semver"] == "1.0.0"
    assert repo.main_commit() == c1
    assert client.post(f"{url}/revert", headers=pub).status_code == 409
    assert_git_matches_sql(repo, index_rows(app, cfg["id"]))
    # A new publish must still be greater than every earlier version.
    assert publish(client, url, pub, "2.5.0").status_code == 409
    assert publish(client, url, pub, "3.0.1").status_code == 201


def test_version_files_diff_and_history(client, url, pub, repo):
    v1 = publish(client, url, pub, "1.0.0").json
    save(repo, "columns/zip.py", "def detect_zip(**_):\n    return 1\n")
    save(repo, "startup.py", "# changed\n")
    h = pub
    files = client.get(f"{url}/versions/{v1['id']}/files", headers=h)
    assert files.status_code == 200
    assert "columns/zip.py" not in {f["path"] for f in files.json}
    draft = client.get(f"{url}/versions/draft/files", headers=h).json
    assert "columns/zip.py" in {f["path"] for f in draft}
    one = client.get(f"{url}/versions/{v1['id']}/files/startup.py", headers=h)
    assert one.status_code == 200
    assert one.json["code"] == repo.read_file("startup.py", "v1.0.0").data.decode()
    assert one.json["sha"] == repo.read_file("startup.py", "v1.0.0").sha
    assert one.json["encoding"] == "utf-8" and len(one.json["sha256"]) == 64
    missing = client.get(f"{url}/versions/{v1['id']}/files/columns/zip.py", headers=h)
    assert missing.status_code == 404
    unsafe = client.get(f"{url}/versions/{v1['id']}/files/a/../b.py", headers=h)
    assert unsafe.status_code in (400, 404)
    assert client.get(f"{url}/versions/nope/files", headers=h).status_code == 404

    d = client.get(f"{url}/diff?from={v1['id']}&to=draft", headers=h)
    assert d.status_code == 200 and d.json["from"] == v1["id"]
    by_path = {f["path"]: f for f in d.json["files"]}
    assert by_path["columns/zip.py"]["status"] == "added"
    assert by_path["startup.py"]["status"] == "modified"
    assert "+# changed" in by_path["startup.py"]["patch"]
    back = client.get(f"{url}/diff?from=draft&to={v1['id']}", headers=h).json
    assert {f["path"]: f["status"] for f in back["files"]}[
        "columns/zip.py"
    ] == "deleted"
    assert client.get(f"{url}/diff?from=draft", headers=h).status_code == 400
    assert client.get(f"{url}/diff?from=draft&to=nope", headers=h).status_code == 404

    hist = client.get(f"{url}/history", headers=h)
    assert hist.status_code == 200
    assert [c["message"] for c in hist.json][:2] == [
        "Update startup.py",
        "Create columns/zip.py",
    ]
    assert hist.json[0]["paths"] == ["startup.py"]
    assert hist.json[0]["author"]["name"] == "Test Writer"
    assert len(client.get(f"{url}/history?limit=1", headers=h).json) == 1
    assert client.get(f"{url}/history?limit=0", headers=h).status_code == 400


def test_read_endpoints_need_a_token_and_any_role(client, workspace, url):
    for path in (
        "versions",
        "history",
        "versions/draft/files",
        "diff?from=draft&to=draft",
    ):
        assert client.get(f"{url}/{path}").status_code == 401
        resp = client.get(
            f"{url}/{path}", headers=bearer(workspace["tokens"]["viewer"])
        )
        assert resp.status_code == 200, path
