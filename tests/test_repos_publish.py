"""Publishing: immutable annotated tags, main and HEAD, revert, and what a plain
``git clone`` of a store repo checks out."""

from __future__ import annotations

import pygit2
import pytest

from repos.errors import InvalidVersion, TagExists
from repos.store import Store
from repos.types import Author
from tests.repos_helpers import AUTHOR, git

PUBLISHER = Author("Pat Publisher", "pat@example.test")


@pytest.fixture
def repo(tmp_path):
    return Store(tmp_path / "repos").create(
        "ws1", "cfg1", {"manifest.json": b"{}\n", "columns/a.py": b"a = 1\n"}, AUTHOR
    )


def test_publish_tags_draft_and_moves_main_and_head(repo):
    tag = repo.publish("1.0.0", "First release", tagger=PUBLISHER)
    raw = pygit2.Repository(str(repo.path))
    assert tag.name == "v1.0.0" and tag.semver == "1.0.0"
    assert tag.commit == repo.resolve("draft") == repo.main_commit()
    # the tag's tree id is the version's files_hash, as git itself computes it
    assert tag.tree == repo.tree_id("v1.0.0") == repo.tree_id("draft")
    assert git(repo.path, "rev-parse", "v1.0.0^{tree}").strip() == tag.tree
    tag_obj = raw[raw.references["refs/tags/v1.0.0"].target]
    assert isinstance(tag_obj, pygit2.Tag)  # annotated
    assert tag_obj.message.strip() == "First release"
    assert (tag.message.strip(), tag.tagger) == ("First release", PUBLISHER)
    assert raw.references["HEAD"].target == "refs/heads/main"
    assert repo.tags() == [tag]


def test_tags_are_immutable(repo):
    first = repo.publish("1.0.0", "one", tagger=PUBLISHER)
    repo.write_file("columns/a.py", b"a = 2\n", author=AUTHOR)
    with pytest.raises(TagExists):
        repo.publish("1.0.0", "again", tagger=PUBLISHER)
    assert repo.resolve("v1.0.0") == first.commit
    assert repo.main_commit() == first.commit  # a refused publish moves nothing


def test_invalid_semver_refused(repo):
    for bad in ["1.0", "v1.0.0", "1.0.0 ", "01.0.0", "1.0.0/x", ""]:
        with pytest.raises(InvalidVersion):
            repo.publish(bad, "m", tagger=PUBLISHER)
    assert repo.tags() == [] and repo.main_commit() is None


def test_unchanged_tree_can_be_published_again_same_files_hash(repo):
    one = repo.publish("1.0.0", "one", tagger=PUBLISHER)
    two = repo.publish("1.0.1", "same files", tagger=PUBLISHER)
    assert one.tree == two.tree and one.commit == two.commit


def test_set_main_back_and_forth(repo):
    one = repo.publish("1.0.0", "one", tagger=PUBLISHER)
    repo.write_file("columns/a.py", b"a = 2\n", author=AUTHOR)
    two = repo.publish("1.1.0", "two", tagger=PUBLISHER)
    assert repo.main_commit() == two.commit != one.commit
    repo.set_main("v1.0.0")
    assert repo.main_commit() == one.commit
    assert repo.read_file("columns/a.py", "main").data == b"a = 1\n"
    repo.set_main(two.commit)
    assert repo.main_commit() == two.commit
    # the draft is untouched by publishing and reverting
    assert repo.resolve("draft") == two.commit


def test_tags_listed_in_semver_order(repo):
    for version in ["1.10.0", "1.2.0", "1.2.0-rc.1", "2.0.0-alpha"]:
        repo.publish(version, version, tagger=PUBLISHER)
    assert [t.semver for t in repo.tags()] == [
        "1.2.0-rc.1",
        "1.2.0",
        "1.10.0",
        "2.0.0-alpha",
    ]


def test_publish_at_an_earlier_commit(repo):
    first = repo.resolve("draft")
    repo.write_file("columns/a.py", b"a = 2\n", author=AUTHOR)
    tag = repo.publish("0.1.0", "old", tagger=PUBLISHER, ref=first)
    assert tag.commit == first == repo.main_commit()


def test_clone_checks_out_draft_before_publish_then_main(repo, tmp_path):
    before = tmp_path / "before"
    git(tmp_path, "clone", "-q", str(repo.path), str(before))
    assert (before / "columns/a.py").read_bytes() == b"a = 1\n"
    assert git(before, "rev-parse", "--abbrev-ref", "HEAD").strip() == "draft"

    repo.publish("1.0.0", "live", tagger=PUBLISHER)
    repo.write_file("columns/a.py", b"a = 'draft only'\n", author=AUTHOR)
    after = tmp_path / "after"
    git(tmp_path, "clone", "-q", str(repo.path), str(after))
    assert git(after, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert (after / "columns/a.py").read_bytes() == b"a = 1\n"
    assert git(after, "rev-parse", "HEAD^{tree}").strip() == repo.tree_id("v1.0.0")
    # the draft and the tag travel with the clone
    assert "v1.0.0" in git(after, "tag").split()
    log = git(after, "log", "--format=%s", "origin/draft").splitlines()
    assert log == ["Update columns/a.py", "Create config"]
