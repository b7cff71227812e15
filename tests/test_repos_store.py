"""Store lifecycle, reads at any ref, and the draft's write semantics."""

from __future__ import annotations

import threading

import pygit2
import pytest

from repos.errors import (
    PathExists,
    PathNotFound,
    PreconditionFailed,
    RefNotFound,
    RepoExists,
    RepoNotFound,
    UnsafePath,
)
from repos.repo import ConfigRepo
from repos.store import Store
from repos.types import Author, FileEntry
from tests.repos_helpers import AUTHOR, git

FILES = {
    "manifest.json": b'{"name": "t"}\n',
    "columns/email.py": b"def detect_x(**_):\n    return 1\n",
    "table/transform.py": b"",
}


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "repos")


@pytest.fixture
def repo(store):
    return store.create("ws1", "cfg1", FILES, AUTHOR)


def test_create_makes_a_bare_repo_on_draft(store, repo):
    path = store.repo_path("ws1", "cfg1")
    assert path == store.root / "ws1" / "cfg1.git" == repo.path
    assert store.exists("ws1", "cfg1")
    raw = pygit2.Repository(str(path))
    assert raw.is_bare
    assert raw.references["HEAD"].target == "refs/heads/draft"
    assert repo.main_commit() is None
    (first,) = repo.history()
    assert first.message == "Create config"
    assert first.author == AUTHOR
    assert first.paths == tuple(sorted(FILES))
    assert store.list_configs("ws1") == ["cfg1"]
    assert not list(path.parent.glob(".tmp-*"))


def test_create_twice_and_open_missing(store, repo):
    with pytest.raises(RepoExists):
        store.create("ws1", "cfg1", {}, AUTHOR)
    with pytest.raises(RepoNotFound):
        store.open("ws1", "nope")
    assert store.open("ws1", "cfg1").resolve("draft") == repo.resolve("draft")


def test_delete(store, repo):
    store.delete("ws1", "cfg1")
    assert not store.exists("ws1", "cfg1")
    assert store.list_configs("ws1") == []
    with pytest.raises(RepoNotFound):
        store.delete("ws1", "cfg1")
    store.create("ws1", "cfg1", {}, AUTHOR)  # the id can be reused


def test_reads_at_draft(repo):
    files = repo.list_files()
    assert [f.path for f in files] == sorted(FILES)
    for entry in files:
        assert entry == FileEntry(
            entry.path, pygit2.hash(FILES[entry.path]).__str__(), len(FILES[entry.path])
        )
        content = repo.read_file(entry.path)
        assert (content.sha, content.data) == (entry.sha, FILES[entry.path])
    assert repo.read_all("draft") == FILES
    with pytest.raises(PathNotFound):
        repo.read_file("nope.py")
    with pytest.raises(PathNotFound):
        repo.read_file("columns")  # a directory is not a file


def test_reads_at_commit_tag_and_short_sha(repo):
    first = repo.resolve("draft")
    first_tree = repo.tree_id("draft")
    repo.write_file("manifest.json", b"{}\n", author=AUTHOR)
    repo.publish("1.0.0", "v1", tagger=AUTHOR)
    repo.write_file("manifest.json", b"[]\n", author=AUTHOR)
    assert repo.read_file("manifest.json", first).data == FILES["manifest.json"]
    assert repo.read_file("manifest.json", first[:10]).data == FILES["manifest.json"]
    assert repo.read_file("manifest.json", "v1.0.0").data == b"{}\n"
    assert repo.read_file("manifest.json", "main").data == b"{}\n"
    assert repo.read_file("manifest.json").data == b"[]\n"
    assert repo.tree_id(first) == first_tree
    assert repo.read_all(first) == FILES
    for bad in ["nope", "v9.9.9", "0" * 40, "draft~1", "", "HEAD@{0}"]:
        with pytest.raises(RefNotFound):
            repo.resolve(bad)


def test_export(repo, tmp_path):
    repo.publish("1.0.0", "v1", tagger=AUTHOR)
    repo.write_file("columns/email.py", b"changed\n", author=AUTHOR)
    dest = tmp_path / "out"
    repo.export("v1.0.0", dest)
    got = {
        str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()
    }
    assert got == FILES


def test_update_create_delete_messages(repo):
    sha = repo.read_file("columns/email.py").sha
    result = repo.write_file(
        "columns/email.py", b"new\n", author=AUTHOR, expected_sha=sha
    )
    assert result.commit == repo.resolve("draft")
    assert result.tree == repo.tree_id("draft")
    (change,) = result.changes
    assert (change.path, change.sha, change.size) == (
        "columns/email.py",
        str(pygit2.hash(b"new\n")),
        4,
    )
    repo.write_file("columns/phone.py", b"p\n", author=AUTHOR, create=True)
    gone = repo.delete_file("table/transform.py", author=AUTHOR)
    assert gone.changes[0].sha is None
    messages = [c.message for c in repo.history()]
    assert messages == [
        "Delete table/transform.py",
        "Create columns/phone.py",
        "Update columns/email.py",
        "Create config",
    ]
    assert [c.paths for c in repo.history(limit=3)] == [
        ("table/transform.py",),
        ("columns/phone.py",),
        ("columns/email.py",),
    ]
    commit = repo.history()[0]
    assert commit.author == AUTHOR
    assert commit.time.tzinfo is not None


def test_write_semantics_errors_leave_draft_alone(repo):
    tip = repo.resolve("draft")
    with pytest.raises(PathExists):
        repo.write_file("manifest.json", b"x", author=AUTHOR, create=True)
    with pytest.raises(PathNotFound):
        repo.write_file("missing.py", b"x", author=AUTHOR)
    with pytest.raises(PathNotFound):
        repo.delete_file("missing.py", author=AUTHOR)
    with pytest.raises(PathNotFound):
        repo.delete_file("columns", author=AUTHOR)  # a directory is no file
    stale = str(pygit2.hash(b"something else"))
    with pytest.raises(PreconditionFailed) as info:
        repo.write_file("manifest.json", b"x", author=AUTHOR, expected_sha=stale)
    assert info.value.current_sha == repo.read_file("manifest.json").sha
    with pytest.raises(PreconditionFailed):
        repo.delete_file("manifest.json", author=AUTHOR, expected_sha=stale)
    with pytest.raises(PathExists):  # a file where a directory must go
        repo.write_file("manifest.json/x.py", b"x", author=AUTHOR, create=True)
    with pytest.raises(PathExists):  # a file where a directory is
        repo.write_file("columns", b"x", author=AUTHOR, create=True)
    assert repo.resolve("draft") == tip
    assert len(repo.history()) == 1


def test_a_refused_write_stores_no_object(repo):
    """Preconditions are checked before anything is written: a rejected save
    (stale If-Match, a path in the way) leaves no unreferenced blob behind."""
    stale = str(pygit2.hash(b"something else"))
    refused = {
        "stale": b"content of a stale save\n",
        "exists": b"content of a create that exists\n",
        "blocked": b"content under a file\n",
    }
    with pytest.raises(PreconditionFailed):
        repo.write_file(
            "manifest.json", refused["stale"], author=AUTHOR, expected_sha=stale
        )
    with pytest.raises(PathExists):
        repo.write_file("manifest.json", refused["exists"], author=AUTHOR, create=True)
    with pytest.raises(PathExists):
        repo.apply(
            {"manifest.json/x.py": refused["blocked"]}, author=AUTHOR, message="m"
        )
    raw = pygit2.Repository(str(repo.path))
    for data in refused.values():
        assert pygit2.hash(data) not in raw.odb
    assert len(repo.history()) == 1


def test_apply_is_one_commit_with_preconditions(repo):
    manifest_sha = repo.read_file("manifest.json").sha
    result = repo.apply(
        {
            "columns/zip.py": b"z\n",
            "manifest.json": b'{"c": 1}\n',
            "table/transform.py": None,
        },
        author=Author("Bob", "bob@example.test"),
        message="Add column zip",
        expected={"columns/zip.py": None, "manifest.json": manifest_sha},
    )
    assert sorted(c.path for c in result.changes) == [
        "columns/zip.py",
        "manifest.json",
        "table/transform.py",
    ]
    head = repo.history()[0]
    assert head.message == "Add column zip"
    assert head.author.name == "Bob"
    assert len(repo.history()) == 2
    with pytest.raises(PreconditionFailed) as info:  # must not exist, but does
        repo.apply(
            {"columns/zip.py": b"again"},
            author=AUTHOR,
            message="m",
            expected={"columns/zip.py": None},
        )
    assert info.value.current_sha == str(pygit2.hash(b"z\n"))
    with pytest.raises(PreconditionFailed):  # one stale path fails the lot
        repo.apply(
            {"a.py": b"a", "manifest.json": b"m"},
            author=AUTHOR,
            message="m",
            expected={"manifest.json": manifest_sha},
        )
    with pytest.raises(PathExists):
        repo.apply({"d": b"file", "d/e": b"nested"}, author=AUTHOR, message="m")
    assert len(repo.history()) == 2
    assert "a.py" not in repo.read_all("draft")


def test_unchanged_write_makes_no_commit(repo):
    tip = repo.resolve("draft")
    result = repo.write_file("manifest.json", FILES["manifest.json"], author=AUTHOR)
    assert (result.commit, result.changes) == (tip, ())
    assert repo.resolve("draft") == tip


def test_diff(repo):
    base = repo.resolve("draft")
    repo.apply(
        {
            "columns/email.py": b"def detect_x(**_):\n    return 2\n",
            "new.py": b"a\nb\n",
            "table/transform.py": None,
        },
        author=AUTHOR,
        message="several",
    )
    entries = {e.path: e for e in repo.diff(base, "draft")}
    assert {p: e.status for p, e in entries.items()} == {
        "columns/email.py": "modified",
        "new.py": "added",
        "table/transform.py": "deleted",
    }
    email = entries["columns/email.py"]
    assert (email.additions, email.deletions) == (1, 1)
    assert "-    return 1\n+    return 2\n" in email.patch
    assert entries["new.py"].additions == 2
    assert repo.diff("draft", "draft") == []


def test_odd_author_names_are_stored(repo):
    odd = Author("<Eve>\n", "")
    repo.write_file("manifest.json", b"{}", author=odd)
    assert repo.history()[0].author == Author("Eve", "unknown")


def test_git_log_shows_one_readable_commit_per_save(repo):
    for i in range(3):
        repo.write_file("manifest.json", f"{i}\n".encode(), author=AUTHOR)
    log = git(repo.path, "log", "--format=%an <%ae>|%s", "draft").splitlines()
    assert log == ["Ann Author <ann@example.test>|Update manifest.json"] * 3 + [
        "Ann Author <ann@example.test>|Create config"
    ]


def test_check_tree_reports_what_a_push_must_not_bring(tmp_path):
    store = Store(tmp_path / "repos", max_file_bytes=100, max_files=6)
    repo = store.create("ws1", "cfg1", {"ok.py": b"x"}, AUTHOR)
    assert repo.check_tree("draft") == []
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo.path), str(work))
    (work / "big.bin").write_bytes(b"x" * 101)
    (work / "back\\slash.py").write_bytes(b"x")
    deep = work / "a/b/c/d/e/f/g/h"
    deep.mkdir(parents=True)
    (deep / "i.py").write_bytes(b"x")
    (work / "link").symlink_to("ok.py")
    for i in range(3):
        (work / f"n{i}.py").write_bytes(b"x")
    git(work, "add", "-A")
    git(work, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "bad")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/incoming")
    sha = git(work, "rev-parse", "HEAD").strip()
    problems = repo.check_tree(sha)
    text = "\n".join(problems)
    assert "big.bin" in text and "101 bytes" in text
    assert "back\\\\slash.py" in text and "backslash" in text
    assert "deeper than 8 levels" in text
    assert "'link'" in text and "regular files" in text
    assert "hold 7 files" in text  # the symlink is not a file
    assert len(problems) == 5
    tree = git(work, "rev-parse", "HEAD^{tree}").strip()
    assert repo.check_tree(tree) == problems
    assert repo.check_tree("refs/heads/incoming") == problems
    # the same rules protect export: nothing lands outside dest
    with pytest.raises(UnsafePath):
        repo.export(sha, tmp_path / "out")


def test_extra_object_dirs_make_quarantined_objects_visible(tmp_path):
    """What a pre-receive hook needs: pushed objects live outside objects/."""
    store = Store(tmp_path / "repos")
    repo = store.create("ws1", "cfg1", {"a.py": b"a"}, AUTHOR)
    other = pygit2.init_repository(str(tmp_path / "other.git"), bare=True)
    blob = other.create_blob(b"pushed\n")
    index = pygit2.Index()
    index.add(pygit2.IndexEntry("a.py", blob, pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(other)
    sig = pygit2.Signature("x", "x@x")
    commit = str(other.create_commit(None, sig, sig, "m", tree, []))
    with pytest.raises(RefNotFound):
        repo.resolve(commit)
    with ConfigRepo(
        repo.path,
        store.settings,
        extra_object_dirs=[tmp_path / "other.git" / "objects"],
    ) as hook:
        assert hook.read_file("a.py", commit).data == b"pushed\n"
        assert hook.check_tree(commit) == []


def test_concurrent_creates_of_one_config_one_wins(store):
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            store.create("ws1", "racy", {"who": str(i).encode()}, AUTHOR)
            outcomes.append("created")
        except RepoExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=body, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["created", "exists", "exists", "exists"]
    repo = store.open("ws1", "racy")
    assert len(repo.history()) == 1
    assert not list((store.root / "ws1").glob(".tmp-*"))


def test_deleting_every_file_leaves_an_empty_tree(repo):
    repo.apply(dict.fromkeys(FILES), author=AUTHOR, message="Delete everything")
    assert repo.list_files() == []
    assert repo.tree_id("draft") == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    repo.write_file("again.py", b"x", author=AUTHOR, create=True)
    assert [f.path for f in repo.list_files()] == ["again.py"]


def test_nested_directories_come_and_go(repo):
    repo.write_file("a/b/c/d.py", b"d", author=AUTHOR, create=True)
    repo.write_file("a/b/e.py", b"e", author=AUTHOR, create=True)
    repo.delete_file("a/b/c/d.py", author=AUTHOR)
    assert "a/b/c" not in git(repo.path, "ls-tree", "-r", "-t", "--name-only", "draft")
    repo.delete_file("a/b/e.py", author=AUTHOR)
    assert git(repo.path, "ls-tree", "--name-only", "draft").split() == [
        "columns",
        "manifest.json",
        "table",
    ]
    git(repo.path, "fsck", "--strict", "--no-progress")


def test_history_messages_have_no_trailing_newline(tmp_path):
    """Commits made by git's CLI end with a newline; history hides the difference."""
    import subprocess

    from repos.store import Store
    from repos.types import Author
    from runner.scaffold import scaffold_files

    store = Store(tmp_path / "repos")
    repo = store.create("ws", "cfg", scaffold_files("x"), Author("a", "a@x"))
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "-b", "draft", str(repo.path), str(clone)],
        check=True,
        env=env,
    )
    (clone / "run.py").write_text("# edited\n")
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=u",
            "-c",
            "user.email=u@x",
            "commit",
            "-qam",
            "Edit run.py",
        ],
        cwd=clone,
        check=True,
        env=env,
    )
    subprocess.run(
        ["git", "push", "-q", "origin", "draft"], cwd=clone, check=True, env=env
    )
    assert repo.history("draft", limit=1)[0].message == "Edit run.py"


def test_open_keeps_a_repo_per_thread_until_its_directory_changes(store, repo):
    first = store.open("ws1", "cfg1")
    assert store.open("ws1", "cfg1") is first  # kept open in this thread
    other: list[ConfigRepo] = []
    thread = threading.Thread(target=lambda: other.append(store.open("ws1", "cfg1")))
    thread.start()
    thread.join()
    assert other[0] is not first  # threads never share an instance
    # Deleted (from another thread: only the stat can tell) -> not found.
    thread = threading.Thread(target=lambda: store.delete("ws1", "cfg1"))
    thread.start()
    thread.join()
    with pytest.raises(RepoNotFound):
        store.open("ws1", "cfg1")
    # Created again at the same path: a new instance reading the new repo.
    store.create("ws1", "cfg1", {"new.py": b"x = 1\n"}, AUTHOR)
    again = store.open("ws1", "cfg1")
    assert again is not first
    assert [f.path for f in again.list_files()] == ["new.py"]


def test_a_kept_repo_sees_writes_and_gc_of_others(store, repo):
    kept = store.open("ws1", "cfg1")
    kept.read_file("manifest.json")
    other = ConfigRepo(repo.path)  # another process, as far as libgit2 knows
    for i in range(30):
        other.write_file("table/transform.py", f"x = {i}\n".encode(), author=AUTHOR)
    other.maintain(force=True)  # packs everything, removes the loose objects
    assert kept.read_file("table/transform.py").data == b"x = 29\n"
    kept.write_file("table/transform.py", b"x = 30\n", author=AUTHOR)
    assert other.read_file("table/transform.py").data == b"x = 30\n"
    assert store.open("ws1", "cfg1").read_file("table/transform.py").data == (
        b"x = 30\n"
    )
    git(repo.path, "fsck", "--strict", "--no-progress")
