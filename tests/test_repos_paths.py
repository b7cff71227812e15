"""The path guard of SPEC §2, and the limits on file size and file count."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repos.errors import FileTooLarge, TooManyFiles, UnsafePath
from repos.paths import MAX_PATH_BYTES, path_pattern, validate_id, validate_path
from repos.store import Store
from tests.repos_helpers import AUTHOR

UNSAFE = [
    "",  # empty
    "a" * 256,  # longer than 255 bytes
    "é" * 128,  # 256 bytes of UTF-8 in 128 characters
    "/etc/passwd",  # absolute
    "../x.py",
    "columns/../../x.py",
    "columns/..",
    ".git/config",
    "columns/.git/hooks/pre-receive",
    ".GIT/config",  # case-insensitive file systems
    "a//b.py",  # empty component
    "a/",  # trailing slash = empty component
    "./a.py",
    "columns/./a.py",
    ".",
    "columns\\a.py",  # backslash
    "a\nb.py",
    "a\tb.py",
    "a\x00b.py",
    "a\x7fb.py",
    "a\x85b.py",  # C1 control
    "a/b/c/d/e/f/g/h/i.py",  # 9 levels
    "bad\udcff.py",  # not encodable as UTF-8
    # What git's own checkout refuses (core.protectNTFS / protectHFS): a pushed or
    # saved tree with one of these would break every clone on Windows or macOS.
    ".git./config",  # NTFS drops trailing dots and spaces
    "columns/.git /x.py",
    "GIT~1/config",  # the NTFS short name of .git
    ".g\u200cit/config",  # HFS+ ignores zero-width and bidi characters
    "evil\u202excod.py",  # a bidi override hides the real name (Trojan Source)
    "a\ufeffb.py",
]

SAFE = [
    "manifest.json",
    "columns/postal_code.py",
    "a/b/c/d/e/f/g/h.py",  # exactly 8 levels
    "a" * 255,
    ".gitignore",
    "columns/.hidden.py",
    "..a/b..",
    "nämlich/ü.py",
    "with space.py",
]


@pytest.mark.parametrize("path", UNSAFE)
def test_unsafe_paths_are_refused(path):
    with pytest.raises(UnsafePath):
        validate_path(path)


@pytest.mark.parametrize("path", SAFE)
def test_safe_paths_pass_unchanged(path):
    assert validate_path(path) == path


def test_non_string_refused():
    with pytest.raises(UnsafePath):
        validate_path(b"a.py")  # type: ignore[arg-type]


def test_max_depth_is_a_parameter():
    assert validate_path("a/b/c.py", max_depth=3)
    with pytest.raises(UnsafePath):
        validate_path("a/b/c/d.py", max_depth=3)


@pytest.mark.parametrize("bad", ["", "..", "a/b", "-x", ".hidden", "x" * 129, "a b"])
def test_bad_ids_refused(bad, tmp_path):
    with pytest.raises(UnsafePath):
        validate_id(bad)
    with pytest.raises(UnsafePath):
        Store(tmp_path).repo_path(bad, "cfg")
    with pytest.raises(UnsafePath):
        Store(tmp_path).repo_path("ws", bad)


@pytest.mark.parametrize("path", UNSAFE[:8] + [".git/config", "a\\b"])
def test_store_refuses_unsafe_paths_everywhere(tmp_path, path):
    store = Store(tmp_path)
    with pytest.raises(UnsafePath):
        store.create("ws", "bad", {path: b"x"}, AUTHOR)
    assert not store.exists("ws", "bad")
    repo = store.create("ws", "ok", {"a.py": b"x"}, AUTHOR)
    tip = repo.resolve("draft")
    with pytest.raises(UnsafePath):
        repo.write_file(path, b"x", author=AUTHOR, create=True)
    with pytest.raises(UnsafePath):
        repo.apply({"b.py": b"y", path: b"x"}, author=AUTHOR, message="m")
    with pytest.raises(UnsafePath):
        repo.read_file(path)
    assert repo.resolve("draft") == tip


def test_file_size_limit(tmp_path):
    store = Store(tmp_path, max_file_bytes=1024)
    with pytest.raises(FileTooLarge):
        store.create("ws", "c", {"big.bin": b"x" * 1025}, AUTHOR)
    repo = store.create("ws", "c", {"ok.bin": b"x" * 1024}, AUTHOR)
    with pytest.raises(FileTooLarge) as info:
        repo.write_file("ok.bin", b"x" * 1025, author=AUTHOR)
    assert (info.value.size, info.value.limit) == (1025, 1024)
    assert repo.read_file("ok.bin").size == 1024


def test_default_limits_match_spec(tmp_path):
    repo = Store(tmp_path).create("ws", "c", {}, AUTHOR)
    repo.write_file("big.bin", b"x" * 512 * 1024, author=AUTHOR, create=True)
    with pytest.raises(FileTooLarge):
        repo.write_file("big.bin", b"x" * (512 * 1024 + 1), author=AUTHOR)
    assert repo.settings.max_files == 2000


def test_file_count_limit(tmp_path):
    store = Store(tmp_path, max_files=5)
    with pytest.raises(TooManyFiles):
        store.create("ws", "c", {f"f{i}": b"" for i in range(6)}, AUTHOR)
    repo = store.create("ws", "c", {f"f{i}": b"" for i in range(4)}, AUTHOR)
    repo.write_file("f4", b"", author=AUTHOR, create=True)
    with pytest.raises(TooManyFiles):
        repo.write_file("f5", b"", author=AUTHOR, create=True)
    with pytest.raises(TooManyFiles):
        repo.apply({"g1": b"", "g2": b""}, author=AUTHOR, message="two more")
    # replacing one file by another keeps the count and is fine
    repo.apply({"f0": None, "g0": b""}, author=AUTHOR, message="swap")
    assert len(repo.list_files()) == 5


# The OpenAPI document states validate_path as a regex (repos.paths.path_pattern):
# it must accept every path the check accepts and refuse every other, but for
# what it leaves to words: the length in bytes, format characters beyond the BMP
# and lone surrogates (not UTF-8; a JSON body with one is refused before).
PIECES = st.sampled_from(
    ["a", "é", "/", ".", "..", " ", "\\", "git", "GiT", ".git", "~1", "\n", "\x7f",
     "\u200b", "\u202e", "\ufeff", "\u00ad", "\U0001f600", "\U000e0001", "-", "_"]
)  # fmt: skip
CANDIDATES = st.one_of(
    st.lists(PIECES, max_size=12).map("".join),
    st.text(max_size=40),
    st.sampled_from(UNSAFE + SAFE),
)


# As JSON Schema reads it: "$" is the end of the string (Python's also matches
# before a final newline).
DOCUMENTED = re.compile(path_pattern().removesuffix("$") + r"\Z")


def _accepted(path: str) -> bool:
    try:
        validate_path(path)
    except UnsafePath:
        return False
    return True


@settings(max_examples=600, deadline=None, database=None, derandomize=True)
@given(CANDIDATES)
def test_the_documented_pattern_is_the_check(path):
    left_to_words = len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES or any(
        (ord(c) > 0xFFFF and unicodedata.category(c) == "Cf")
        or unicodedata.category(c) == "Cs"
        for c in path
    )
    matches = DOCUMENTED.match(path) is not None
    if left_to_words:
        assert _accepted(path) is False  # the pattern may match: the words refuse
    else:
        assert matches == _accepted(path), path


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(st.from_regex(path_pattern(), fullmatch=True))
def test_paths_drawn_from_the_pattern_pass_unless_too_long(path):
    if len(path.encode("utf-8", "surrogatepass")) <= MAX_PATH_BYTES:
        assert _accepted(path), path
