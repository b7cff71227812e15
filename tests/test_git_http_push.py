"""git push over HTTP with the real git client: what lands on the draft, what is
refused (and how git shows it), and pushes racing API saves."""

from __future__ import annotations

import json
import os
import random
import threading
import time

import pytest

from repos import housekeeping
from tests.conftest import bearer
from tests.git_http_helpers import AUTHOR, Git, running_site

REJECTED_BY_HOOK = "(pre-receive hook declined)"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_site(tmp_path_factory.mktemp("git-push")) as site:
        yield site


@pytest.fixture
def git(tmp_path):
    return Git(tmp_path / "home")


@pytest.fixture
def work(site, git, tmp_path):
    """A fresh config and an author's clone of it: ``(work dir, repo)``."""
    path, repo = site.config()
    dest = tmp_path / "work"
    git.run("clone", site.url(path, site.tokens["author"]), str(dest))
    return dest, repo


def _commit(git, dest, files: dict[str, bytes | None], message="change") -> str:
    for name, data in files.items():
        target = dest / name
        if data is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    git.run("add", "-A", cwd=dest)
    git.run("commit", "-q", "-m", message, cwd=dest)
    return git.output("rev-parse", "HEAD", cwd=dest)


def _draft_shas(site, repo) -> dict[str, str]:
    """``{path: ETag}`` of the draft as ``GET draft/files`` reports it."""
    config_id = repo.path.name.removesuffix(".git")
    url = f"/api/v1/workspaces/acme/configs/{config_id}/draft/files"
    client = site.app.test_client()
    listing = client.get(url, headers=bearer(site.tokens["viewer"]))
    assert listing.status_code == 200, listing.json
    shas = {f["path"]: f["sha"] for f in listing.json}
    for path, sha in shas.items():
        one = client.get(f"{url}/{path}", headers=bearer(site.tokens["viewer"]))
        assert one.headers["ETag"].strip('"') == sha
    return shas


def test_a_valid_push_lands_on_the_draft(site, git, work):
    dest, repo = work
    email = (dest / "columns/email.py").read_bytes() + b"\n# tightened\n"
    head = _commit(
        git, dest, {"columns/email.py": email, "notes.md": b"# Notes\n"}, "Edit email"
    )
    # git 2.39 asks for protocol v2 by default; pushing speaks v0 either way.
    proc = git.run("-c", "protocol.version=0", "push", "origin", "draft", cwd=dest)
    assert "draft -> draft" in proc.stderr
    assert "remote:" not in proc.stderr  # nothing to warn about
    assert repo.resolve("draft") == head
    shas = _draft_shas(site, repo)
    for path in ("columns/email.py", "notes.md"):
        assert shas[path] == git.output("rev-parse", f"HEAD:{path}", cwd=dest)
    assert repo.read_file("columns/email.py").data == email
    assert repo.history("draft", limit=1)[0].message.strip() == "Edit email"


def test_a_push_schedules_maintenance_after_it(git, work, monkeypatch):
    """A push adds objects outside the store's writes: the housekeeping thread is
    told once receive-pack is done (receive-pack's own auto gc is off)."""
    dest, repo = work
    scheduled = []
    monkeypatch.setattr(housekeeping, "schedule", lambda p, _s: scheduled.append(p))
    _commit(git, dest, {"notes.md": b"# Notes\n"})
    git.run("push", "origin", "draft", cwd=dest)
    deadline = time.monotonic() + 10  # the server closes the response after git
    while not scheduled and time.monotonic() < deadline:
        time.sleep(0.02)
    assert scheduled == [repo.path]


def test_a_bad_manifest_is_refused(git, work):
    dest, repo = work
    before = repo.resolve("draft")
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["columns"][0]["path"] = "columns/gone.py"
    del manifest["table"]["transform"]["path"]
    _commit(git, dest, {"manifest.json": json.dumps(manifest).encode()})
    proc = git.run("push", "origin", "draft", cwd=dest, check=False)
    assert proc.returncode != 0
    assert "remote: error: push rejected by ADE:" in proc.stderr
    assert "manifest.json: columns[0].path: no such file 'columns/gone.py'" in (
        proc.stderr
    )
    assert "manifest.json: table.transform.path: required" in proc.stderr
    assert f"! [remote rejected] draft -> draft {REJECTED_BY_HOOK}" in proc.stderr
    assert repo.resolve("draft") == before


def test_unsafe_paths_large_files_and_links_are_refused(git, work):
    dest, repo = work
    before = repo.resolve("draft")
    deep = "/".join("abcdefgh") + "/deep.py"  # 9 levels
    _commit(
        git,
        dest,
        {deep: b"x = 1\n", "back\\slash.py": b"x = 1\n", "big.bin": b"\1" * 600_000},
    )
    os.symlink("/etc/passwd", dest / "link")
    _commit(git, dest, {})
    proc = git.run("push", "origin", "draft", cwd=dest, check=False)
    assert proc.returncode != 0
    for words in ("deeper than 8 levels", "backslash", "'big.bin'", "'link': only"):
        assert words in proc.stderr, words
    assert REJECTED_BY_HOOK in proc.stderr
    assert repo.resolve("draft") == before


def test_history_is_held_to_the_rules_not_only_the_tip(git, work):
    """A large blob or an unsafe path added in one commit and deleted in the next
    leaves a clean tip, but would stay in the repo (and in every clone) for good."""
    dest, repo = work
    before = repo.resolve("draft")
    zeros = b"\0" * (2 * 1024 * 1024)  # compresses to a few KiB on the wire
    _commit(git, dest, {"big.bin": zeros, "a/b/c/d/e/f/g/h/i.py": b"x = 1\n"})
    _commit(git, dest, {"big.bin": None, "a/b/c/d/e/f/g/h/i.py": None})
    proc = git.run("push", "origin", "draft", cwd=dest, check=False)
    assert proc.returncode != 0, proc.stderr
    assert REJECTED_BY_HOOK in proc.stderr
    assert "in the pushed history" in proc.stderr  # the blob itself
    assert "deeper than 8 levels" in proc.stderr  # the first commit's tree
    assert repo.resolve("draft") == before
    # Nothing of the refused push stays behind.
    git_dir = repo.path
    assert not any((git_dir / "objects").glob("tmp_objdir*")), "quarantine left"


def test_tags_main_and_other_branches_are_refused(git, work):
    dest, repo = work
    git.run("tag", "-a", "v9.0.0", "-m", "sneaky", cwd=dest)
    proc = git.run(
        "push",
        "origin",
        "refs/tags/v9.0.0",
        "HEAD:refs/heads/main",
        "HEAD:refs/heads/feature",
        cwd=dest,
        check=False,
    )
    assert proc.returncode != 0
    assert "remote:   refs/tags/v9.0.0: only refs/heads/draft can be pushed" in (
        proc.stderr
    )
    assert "refs/heads/main: only refs/heads/draft" in proc.stderr
    assert "refs/heads/feature: only refs/heads/draft" in proc.stderr
    assert proc.stderr.count(REJECTED_BY_HOOK) == 3
    assert repo.tags() == [] and repo.main_commit() is None


def test_non_fast_forward_is_refused_even_forced(git, work):
    dest, repo = work
    _commit(git, dest, {"mine.md": b"mine\n"})
    saved = repo.write_file("theirs.md", b"theirs\n", author=AUTHOR, create=True)
    plain = git.run("push", "origin", "draft", cwd=dest, check=False)
    assert plain.returncode != 0 and "fetch first" in plain.stderr  # client-side
    forced = git.run("push", "--force", "origin", "draft", cwd=dest, check=False)
    assert forced.returncode != 0
    assert "not a fast-forward of the current draft" in forced.stderr
    assert "fetch, rebase or merge, then push again" in forced.stderr
    assert repo.resolve("draft") == saved.commit

    # The way out that the message suggests works.
    git.run("pull", "-q", "--rebase", "origin", "draft", cwd=dest)
    git.run("push", "origin", "draft", cwd=dest)
    assert {"mine.md", "theirs.md"} <= {f.path for f in repo.list_files()}


def test_deleting_the_draft_is_refused(git, work):
    dest, repo = work
    before = repo.resolve("draft")
    proc = git.run("push", "origin", ":draft", cwd=dest, check=False)
    assert proc.returncode != 0
    assert "the draft cannot be deleted" in proc.stderr
    assert repo.resolve("draft") == before


def test_a_viewer_cannot_push(site, git, work):
    dest, repo = work
    before = repo.resolve("draft")
    _commit(git, dest, {"notes.md": b"x\n"})
    viewer_url = git.output("remote", "get-url", "origin", cwd=dest).replace(
        site.tokens["author"], site.tokens["viewer"]
    )
    proc = git.run("push", viewer_url, "draft", cwd=dest, check=False)
    assert proc.returncode != 0
    assert "remote: Pushing needs the 'author' role" in proc.stderr
    assert "403" in proc.stderr
    assert repo.resolve("draft") == before


def test_guardrail_findings_warn_by_default_and_block_when_configured(site, git, work):
    dest, repo = work
    _commit(git, dest, {"columns/extra.py": b"import os\n"})
    proc = git.run("push", "origin", "draft", cwd=dest)
    assert "remote: warning: guardrail findings (they block publishing):" in (
        proc.stderr
    )
    assert "columns/extra.py:1:0: import: import of 'os' is not allowed" in proc.stderr
    assert repo.resolve("draft") == git.output("rev-parse", "HEAD", cwd=dest)

    site.app.config["GIT_PUSH_GUARDRAILS"] = "block"
    site.app.extensions.pop("ade.git_commands", None)
    try:
        _commit(git, dest, {"columns/more.py": b"eval('1')\n"})
        proc = git.run("push", "origin", "draft", cwd=dest, check=False)
    finally:
        site.app.config["GIT_PUSH_GUARDRAILS"] = "warn"
        site.app.extensions.pop("ade.git_commands", None)
    assert proc.returncode != 0
    assert "columns/more.py:1:0: call:" in proc.stderr
    assert REJECTED_BY_HOOK in proc.stderr


def test_a_push_over_one_mib_arrives_chunked(git, work):
    dest, repo = work
    blobs = {f"data/{i}.bin": random.randbytes(400_000) for i in range(3)}
    head = _commit(git, dest, blobs)
    proc = git.run("push", "origin", "draft", cwd=dest, env={"GIT_TRACE_CURL": "1"})
    assert "Transfer-Encoding: chunked" in proc.stderr
    assert repo.resolve("draft") == head
    assert repo.read_file("data/2.bin").data == blobs["data/2.bin"]


def test_pushes_racing_api_saves_lose_nothing(git, work):
    dest, repo = work
    # A second ConfigRepo on the same path: what another API process would use.
    api = type(repo)(repo.path, repo.settings)
    stop = threading.Event()
    saved: dict[str, bytes] = {}

    def saves():
        n = 0
        while not stop.is_set():
            for _ in range(2):
                data = f"save {n}\n".encode()
                api.write_file(f"api/{n}.md", data, author=AUTHOR, create=True)
                saved[f"api/{n}.md"] = data
                n += 1
            stop.wait(random.uniform(0.1, 0.7))

    def pull_and_push() -> bool:
        git.run("pull", "-q", "--rebase", "origin", "draft", cwd=dest)
        proc = git.run("push", "origin", "draft", cwd=dest, check=False)
        # Stale pushes are refused by the client, our hook or receive-pack's ref
        # lock; each is a rejected push, never an HTTP error.
        assert proc.returncode == 0 or "rejected" in proc.stderr, proc.stderr
        return proc.returncode == 0

    thread = threading.Thread(target=saves)
    thread.start()
    outcomes = []
    try:
        for k in range(4):
            _commit(git, dest, {f"push/{k}.md": f"push {k}\n".encode()})
            outcomes.append(pull_and_push())
    finally:
        stop.set()
        thread.join()
    assert len(saved) >= 4, "the saves did not overlap the pushes"
    if not all(outcomes):  # the losers' commits are still local: push them now
        assert pull_and_push()
    final = repo.read_all("draft")
    for name, data in saved.items():
        assert final.get(name) == data, f"API save {name} was lost"
    for k in range(4):
        assert final.get(f"push/{k}.md") == f"push {k}\n".encode()
