"""The push checks of ``app.services.push`` on real repos, without a server: what a
pre-receive hook decides for each kind of ref update."""

from __future__ import annotations

import json

import pygit2
import pytest

from app.services.push import (
    ZERO,
    Verdict,
    check_push,
    format_verdict,
    git_is_ancestor,
    parse_updates,
)
from repos.repo import DRAFT
from repos.store import Store
from repos.types import Author
from runner.checks import check_package
from runner.scaffold import scaffold_files

AUTHOR = Author("t", "t@example.com")


@pytest.fixture
def repo(tmp_path):
    return Store(tmp_path / "repos").create("ws1", "cfg1", scaffold_files("x"), AUTHOR)


def _commit(repo, parent: str, changes: dict[str, bytes | None]) -> str:
    """A commit on top of ``parent`` that no branch points at (as if pushed)."""
    raw = pygit2.Repository(str(repo.path))
    base = raw[parent].peel(pygit2.Commit)
    index = pygit2.Index()
    index.read_tree(base.tree)
    for path, data in changes.items():
        if data is None:
            index.remove(path)
        else:
            blob = raw.create_blob(data)
            index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(raw)
    sig = pygit2.Signature("dev", "dev@example.com")
    return str(raw.create_commit(None, sig, sig, "change", tree, [base.id]))


def _check(repo, updates, block=False):
    return check_push(
        repo,
        updates,
        is_ancestor=git_is_ancestor("git", repo.path),
        block_guardrails=block,
    )


def test_fast_forward_of_the_draft_with_a_valid_tree_is_accepted(repo):
    tip = repo.resolve("draft")
    new = _commit(repo, tip, {"notes.md": b"# notes\n"})
    verdict = _check(repo, [(tip, new, DRAFT)])
    assert verdict.accepted, verdict.errors
    assert verdict.warnings == []


@pytest.mark.parametrize(
    "ref, words",
    [
        ("refs/tags/v1.0.0", "tags and main are made by publishing"),
        ("refs/heads/main", "tags and main are made by publishing"),
        ("refs/heads/feature", "the draft is the only branch"),
        ("refs/notes/commits", "the draft is the only branch"),
    ],
)
def test_refs_other_than_the_draft_are_refused(repo, ref, words):
    tip = repo.resolve("draft")
    verdict = _check(repo, [(ZERO, tip, ref)])
    assert not verdict.accepted
    assert ref in verdict.errors[0] and words in verdict.errors[0]


def test_deleting_the_draft_is_refused(repo):
    verdict = _check(repo, [(repo.resolve("draft"), ZERO, DRAFT)])
    assert verdict.errors == [f"{DRAFT}: the draft cannot be deleted"]


def test_an_update_from_a_stale_tip_is_refused(repo):
    old = repo.resolve("draft")
    new = _commit(repo, old, {"a.md": b"a"})
    repo.write_file("b.md", b"b", author=AUTHOR, create=True)  # an API save wins
    verdict = _check(repo, [(old, new, DRAFT)])
    assert not verdict.accepted
    assert "not a fast-forward" in verdict.errors[0]


def test_a_rewrite_of_history_is_refused_even_from_the_current_tip(repo):
    first = repo.resolve("draft")
    repo.write_file("b.md", b"b", author=AUTHOR, create=True)
    tip = repo.resolve("draft")
    sideways = _commit(repo, first, {"c.md": b"c"})  # does not contain ``tip``
    verdict = _check(repo, [(tip, sideways, DRAFT)])
    assert not verdict.accepted
    assert "fetch, rebase or merge" in verdict.errors[0]


def test_tree_problems_are_all_listed(repo):
    tip = repo.resolve("draft")
    new = _commit(
        repo,
        tip,
        {
            "a/b/c/d/e/f/g/h/i.py": b"x = 1\n",
            "back\\slash.py": b"x = 1\n",
            "big.bin": b"\0" * (512 * 1024 + 1),
        },
    )
    errors = _check(repo, [(tip, new, DRAFT)]).errors
    text = "\n".join(errors)
    assert "deeper than 8 levels" in text
    assert "backslash" in text
    assert "big.bin" in text and "524289" in text


def test_manifest_problems_block(repo):
    tip = repo.resolve("draft")
    manifest = json.loads(repo.read_file("manifest.json").data)
    manifest["columns"][0]["path"] = "columns/missing.py"
    new = _commit(repo, tip, {"manifest.json": json.dumps(manifest).encode()})
    errors = _check(repo, [(tip, new, DRAFT)]).errors
    assert errors == [
        "manifest.json: columns[0].path: no such file 'columns/missing.py'"
    ]


def _texts(files: dict) -> list[str]:
    return [p.text() for p in check_package(files).errors]


def test_a_missing_or_broken_manifest_is_reported():
    assert _texts({}) == ["manifest.json: missing (every config needs one)"]
    assert _texts({"manifest.json": b"{nope"})[0].startswith(
        "manifest.json: not valid JSON"
    )


def test_guardrail_findings_warn_by_default_and_block_when_asked(repo):
    tip = repo.resolve("draft")
    new = _commit(repo, tip, {"columns/email.py": b"import os\n"})
    warned = _check(repo, [(tip, new, DRAFT)])
    assert warned.accepted
    assert warned.warnings == [
        "columns/email.py:1:0: import: import of 'os' is not allowed"
    ]
    blocked = _check(repo, [(tip, new, DRAFT)], block=True)
    assert not blocked.accepted
    assert "columns/email.py:1:0: import" in blocked.errors[0]


def test_one_bad_update_rejects_the_whole_push(repo):
    tip = repo.resolve("draft")
    new = _commit(repo, tip, {"ok.md": b"ok"})
    verdict = _check(repo, [(tip, new, DRAFT), (ZERO, new, "refs/tags/v9.0.0")])
    assert not verdict.accepted


def test_hook_input_and_output_format():
    assert parse_updates(f"{ZERO} {'a' * 40} {DRAFT}\n\ngarbage\n") == [
        (ZERO, "a" * 40, DRAFT)
    ]
    text = format_verdict(Verdict(errors=[f"e{i}" for i in range(45)], warnings=["w"]))
    lines = text.splitlines()
    assert lines[0] == "error: push rejected by ADE:"
    assert "  ... and 5 more" in lines
    assert lines[-1] == "  w"


def test_modules_pinned_in_the_manifest_are_no_guardrail_finding(repo):
    tip = repo.resolve("draft")
    manifest = json.loads(repo.read_file("manifest.json").data)
    manifest["pins"] = {"dateutil": "2.9.0"}
    new = _commit(
        repo,
        tip,
        {
            "manifest.json": json.dumps(manifest).encode(),
            "columns/email.py": b"import dateutil\nimport os\n",
        },
    )
    verdict = _check(repo, [(tip, new, DRAFT)])
    assert verdict.accepted
    assert verdict.warnings == [
        "columns/email.py:2:0: import: import of 'os' is not allowed"
    ]


def test_manifest_nested_past_the_recursion_limit_is_a_problem_not_a_crash():
    deep = b"[" * 100_000 + b"]" * 100_000
    problems = _texts({"manifest.json": deep})
    assert problems == ["manifest.json: nested deeper than 64 levels"]
