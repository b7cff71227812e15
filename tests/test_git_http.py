"""git clone / fetch over HTTP with the real git client against a live server, and
the HTTP edges of the endpoint (auth, 404s, content types, gzip bodies)."""

from __future__ import annotations

import base64
import gzip
import os
from pathlib import Path

import pytest

from tests.git_http_helpers import AUTHOR, Git, running_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_site(tmp_path_factory.mktemp("git-http")) as site:
        yield site


@pytest.fixture
def config(site):
    return site.config()


@pytest.fixture
def git(tmp_path):
    return Git(tmp_path / "home")


@pytest.fixture
def client(site):
    return site.app.test_client()


def _files(directory):
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(directory).parts
    }


@pytest.mark.parametrize("version", ["0", "2"])
def test_clone_checks_out_the_draft(site, config, git, tmp_path, version):
    path, repo = config
    dest = tmp_path / "clone"
    url = site.url(path, site.tokens["viewer"])
    proc = git.run("-c", f"protocol.version={version}", "clone", url, str(dest))
    assert "warning" not in proc.stderr.lower()
    assert _files(dest) == repo.read_all("draft")
    assert git.output("rev-parse", "HEAD", cwd=dest) == repo.resolve("draft")
    assert git.output("symbolic-ref", "HEAD", cwd=dest) == "refs/heads/draft"


@pytest.mark.parametrize("version", ["0", "2"])
def test_fetch_after_publish_brings_the_tag_and_main(
    site, config, git, tmp_path, version
):
    path, repo = config
    proto = ("-c", f"protocol.version={version}")
    url = site.url(path, site.tokens["viewer"])
    dest = tmp_path / "work"
    git.run(*proto, "clone", url, str(dest))
    repo.write_file("notes.md", b"v1 notes\n", author=AUTHOR, create=True)
    config_id = repo.path.name.removesuffix(".git")
    published = site.app.test_client().post(
        f"/api/v1/workspaces/acme/configs/{config_id}/publish",
        json={"semver": "1.0.0", "message": "first release"},
        headers={"Authorization": f"Bearer {site.tokens['publisher']}"},
    )
    assert published.status_code == 201, published.json
    version = published.json
    repo.write_file("notes.md", b"after v1\n", author=AUTHOR)  # draft moves on

    fetched = git.run(*proto, "fetch", "--tags", "origin", cwd=dest)
    assert "v1.0.0" in fetched.stderr
    tag_tree = git.output("rev-parse", "v1.0.0^{tree}", cwd=dest)
    assert tag_tree == version["files_hash"]
    assert git.output("cat-file", "-t", "v1.0.0", cwd=dest) == "tag"  # annotated
    assert git.output("rev-parse", "origin/main", cwd=dest) == version["commit"]
    assert git.output("rev-parse", "origin/draft", cwd=dest) == repo.resolve("draft")

    # A fresh clone now checks out main: the published files, not the draft.
    fresh = tmp_path / "fresh"
    git.run(*proto, "clone", url, str(fresh))
    assert git.output("symbolic-ref", "HEAD", cwd=fresh) == "refs/heads/main"
    assert _files(fresh) == repo.read_all("v1.0.0")
    assert (fresh / "notes.md").read_bytes() == b"v1 notes\n"


def test_fetch_with_many_haves_sends_a_gzip_body(site, config, git, tmp_path):
    # git gzips upload-pack requests over 1 KiB: 40 local commits are 40 "have" lines.
    path, repo = config
    dest = tmp_path / "work"
    git.run("clone", site.url(path, site.tokens["viewer"]), str(dest))
    for i in range(40):
        # Dated after everything else, so negotiation offers them first: the
        # server knows none, and the stateless re-send of all haves passes 1 KiB.
        date = {"GIT_COMMITTER_DATE": f"2030-01-01T00:00:{i:02d}Z"}
        git.run("commit", "-q", "--allow-empty", "-m", f"l{i}", cwd=dest, env=date)
    repo.write_file("new.md", b"server side\n", author=AUTHOR, create=True)
    proc = git.run("fetch", "origin", cwd=dest, env={"GIT_TRACE_CURL": "1"})
    assert "Content-Encoding: gzip" in proc.stderr
    assert git.output("rev-parse", "origin/draft", cwd=dest) == repo.resolve("draft")


def test_anonymous_clone_is_refused(site, config, git, tmp_path):
    path, _repo = config
    proc = git.run("clone", f"{site.base}{path}", str(tmp_path / "x"), check=False)
    assert proc.returncode != 0
    assert "could not read Username" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_wrong_token_is_refused(site, config, git, tmp_path):
    path, _repo = config
    url = site.url(path, "ade_not-a-token")
    proc = git.run("clone", url, str(tmp_path / "x"), check=False)
    assert proc.returncode != 0
    assert "Authentication failed" in proc.stderr


def test_clone_from_another_workspace_is_not_found(site, config, git, tmp_path):
    path, _repo = config
    url = site.url(path, site.outsider)
    proc = git.run("clone", url, str(tmp_path / "x"), check=False)
    assert proc.returncode != 0
    assert f"remote: Repository {path[5:]} not found." in proc.stderr
    assert "not found" in proc.stderr.splitlines()[-1]


def test_instance_admin_and_bearer_header_may_clone(site, config, git, tmp_path):
    path, _repo = config
    git.run("clone", site.url(path, site.admin), str(tmp_path / "a"))
    header = f"http.extraHeader=Authorization: Bearer {site.tokens['viewer']}"
    git.run("-c", header, "clone", f"{site.base}{path}", str(tmp_path / "b"))
    assert (tmp_path / "b" / "manifest.json").is_file()


# ----- the HTTP edges, through the test client -------------------------------------


def _basic(token: str) -> dict:
    return {
        "Authorization": "Basic " + base64.b64encode(f"u:{token}".encode()).decode()
    }


def test_401_names_basic_auth(client, config):
    path, _repo = config
    for headers in ({}, _basic("wrong")):
        resp = client.get(f"{path}/info/refs?service=git-upload-pack", headers=headers)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"] == 'Basic realm="ade"'
        assert resp.mimetype == "text/plain"


def test_404_for_unknown_repos_and_the_dumb_protocol(site, client, config):
    path, _repo = config
    auth = _basic(site.tokens["viewer"])
    for url in (
        "/git/acme/nope.git/info/refs?service=git-upload-pack",
        f"/git/nope/{path[10:]}/info/refs?service=git-upload-pack",
        f"/git/other/{path[10:]}/info/refs?service=git-upload-pack",
        f"{path}/info/refs",  # dumb HTTP: not served
        f"{path}/info/refs?service=git-upload-archive",
        f"{path}/HEAD",
    ):
        assert client.get(url, headers=auth).status_code == 404, url


def test_viewer_may_not_start_a_push(site, client, config):
    path, _repo = config
    auth = _basic(site.tokens["viewer"])
    resp = client.get(f"{path}/info/refs?service=git-receive-pack", headers=auth)
    assert resp.status_code == 403
    assert b"needs the 'author' role" in resp.data
    resp = client.post(
        f"{path}/git-receive-pack",
        data=b"0000",
        headers={**auth, "Content-Type": "application/x-git-receive-pack-request"},
    )
    assert resp.status_code == 403


def test_v0_advertisement_names_the_service_and_v2_does_not(site, client, config):
    path, repo = config
    auth = _basic(site.tokens["viewer"])
    url = f"{path}/info/refs?service=git-upload-pack"
    v0 = client.get(url, headers=auth)
    assert v0.status_code == 200
    assert v0.mimetype == "application/x-git-upload-pack-advertisement"
    assert v0.data.startswith(b"001e# service=git-upload-pack\n0000")
    assert repo.resolve("draft").encode() in v0.data
    assert v0.headers["Cache-Control"].startswith("no-cache")
    v2 = client.get(url, headers={**auth, "Git-Protocol": "version=2"})
    assert v2.data.startswith(b"000eversion 2\n")


def _pkt(text: str) -> bytes:
    return f"{len(text) + 4:04x}{text}".encode()


LS_REFS = _pkt("command=ls-refs\n") + b"0001" + _pkt("peel\n") + b"0000"


def test_gzip_request_body_is_inflated(site, client, config):
    path, _repo = config
    headers = {
        **_basic(site.tokens["viewer"]),
        "Git-Protocol": "version=2",
        "Content-Type": "application/x-git-upload-pack-request",
    }
    plain = client.post(f"{path}/git-upload-pack", data=LS_REFS, headers=headers)
    zipped = client.post(
        f"{path}/git-upload-pack",
        data=gzip.compress(LS_REFS),
        headers={**headers, "Content-Encoding": "gzip"},
    )
    assert plain.status_code == zipped.status_code == 200
    assert zipped.mimetype == "application/x-git-upload-pack-result"
    assert b"refs/heads/draft" in zipped.data
    assert zipped.data == plain.data


def test_bad_bodies_are_refused(site, client, config):
    path, _repo = config
    headers = {
        **_basic(site.tokens["viewer"]),
        "Content-Type": "application/x-git-upload-pack-request",
    }
    url = f"{path}/git-upload-pack"
    corrupt = client.post(
        url, data=b"\x1f\x8bnot gzip", headers={**headers, "Content-Encoding": "gzip"}
    )
    assert corrupt.status_code == 400
    brotli = client.post(
        url, data=LS_REFS, headers={**headers, "Content-Encoding": "br"}
    )
    assert brotli.status_code == 415
    text = client.post(url, data=LS_REFS, headers={**headers, "Content-Type": "text/a"})
    assert text.status_code == 415


def test_request_bodies_are_bounded(site, config):
    path, _repo = config
    site.app.config["GIT_MAX_REQUEST_BYTES"] = 1000
    site.app.extensions.pop("ade.git_commands", None)
    try:
        client = site.app.test_client()
        headers = {
            **_basic(site.tokens["viewer"]),
            "Content-Type": "application/x-git-upload-pack-request",
        }
        url = f"{path}/git-upload-pack"
        assert client.post(url, data=b"0000" * 300, headers=headers).status_code == 413
        bomb = gzip.compress(b"0" * 100_000)  # 100 kB inflated from ~200 bytes
        gz = {**headers, "Content-Encoding": "gzip"}
        assert client.post(url, data=bomb, headers=gz).status_code == 413
    finally:
        site.app.config["GIT_MAX_REQUEST_BYTES"] = 100 * 1024 * 1024
        site.app.extensions.pop("ade.git_commands", None)


def _git_children() -> list[str]:
    """``/proc`` entries of git processes whose parent is this test process
    (running or zombie)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        comm = fields[0].split("(", 1)[1]
        ppid = int(fields[1].split()[1])
        if ppid == os.getpid() and comm.startswith("git"):
            found.append(stat.parent.name)
    return found


def test_an_abandoned_response_reaps_git(site, client, config):
    path, _repo = config
    headers = {
        **_basic(site.tokens["viewer"]),
        "Git-Protocol": "version=2",
        "Content-Type": "application/x-git-upload-pack-request",
    }
    resp = client.post(
        f"{path}/git-upload-pack", data=LS_REFS, headers=headers, buffered=False
    )
    assert resp.status_code == 200
    assert _git_children(), "git should be running (or waiting to be reaped)"
    resp.close()  # never read: what a client that hangs up leaves behind
    assert _git_children() == []
