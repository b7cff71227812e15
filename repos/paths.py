"""The one place that decides whether a path inside a config tree is safe (SPEC §2)."""

from __future__ import annotations

import functools
import re
import unicodedata

from repos.errors import UnsafePath

MAX_PATH_BYTES = 255
MAX_DEPTH = 8
# Workspace and config ids become directory names: keep them to a dull alphabet.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def validate_path(path: str, *, max_depth: int = MAX_DEPTH) -> str:
    """Return ``path`` if it is a safe relative POSIX file path, else raise.

    Rules: 1–255 bytes of UTF-8; no leading ``/``; no backslash, control or
    (invisible) format character; no empty, ``.`` or ``..`` component; no ``.git``
    component (in any case, since case-insensitive file systems would honour
    ``.GIT``, nor as NTFS reads ``.git.`` or ``GIT~1``); at most
    ``max_depth`` components. Nothing is rewritten, so the returned path is the
    given one: a path that would need normalising is refused instead.
    """
    if not isinstance(path, str):
        raise UnsafePath(path, "not a string")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise UnsafePath(path, "not valid UTF-8") from exc
    if size == 0:
        raise UnsafePath(path, "empty")
    if size > MAX_PATH_BYTES:
        raise UnsafePath(path, f"longer than {MAX_PATH_BYTES} bytes")
    if path.startswith("/"):
        raise UnsafePath(path, "absolute")
    if "\\" in path:
        raise UnsafePath(path, "backslash")
    if any(unicodedata.category(ch) == "Cc" for ch in path):
        raise UnsafePath(path, "control character")
    if any(unicodedata.category(ch) == "Cf" for ch in path):
        # Zero-width and bidi characters: HFS+ ignores them (".g\u200cit" is .git)
        # and a bidi override shows a file under another name.
        raise UnsafePath(path, "invisible format character")
    parts = path.split("/")
    for part in parts:
        if part == "":
            raise UnsafePath(path, "empty component")
        if part in (".", ".."):
            raise UnsafePath(path, f"{part!r} component")
        if part.lower() == ".git":
            raise UnsafePath(path, ".git component")
        if part.rstrip(". ").lower() in (".git", "git~1"):
            # What NTFS reads as .git; git's own checkout refuses these too.
            raise UnsafePath(path, ".git component (as NTFS reads it)")
    if len(parts) > max_depth:
        raise UnsafePath(path, f"deeper than {max_depth} levels")
    return path


def validate_id(value: str, what: str = "id") -> str:
    """Return a workspace or config id if it is safe as a directory name."""
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise UnsafePath(value, f"invalid {what}")
    return value


def _ranges(codes: list[int]) -> str:
    """A regex character-class body for ``codes`` (in the BMP), as ``\\uXXXX``
    escapes: ECMA-262, Python and Rust regexes read them alike."""
    spans: list[list[int]] = []
    for code in codes:
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])

    return "".join(
        f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in spans
    )


@functools.cache
def path_pattern() -> str:
    """``validate_path`` as a regular expression (for the OpenAPI document).

    Every path the check accepts matches; every path it refuses does not, except
    for what a portable regex cannot say: the length in bytes (JSON Schema's
    ``maxLength`` counts characters), format characters beyond the BMP (no escape
    for them reads the same in ECMA-262, Python and Rust) and lone surrogates
    (not UTF-8; a JSON body with one is refused before). The character classes
    come from the same ``unicodedata`` categories as the check, so the two cannot
    drift apart (``tests/test_repos_paths.py`` compares them)."""
    refused = [
        c
        for c in range(0x10000)
        if unicodedata.category(chr(c)) in ("Cc", "Cf") and not 0xD800 <= c <= 0xDFFF
    ]
    char = f"[^/\\\\{_ranges(refused)}]"
    # ".", "..", ".git" and what NTFS reads as .git (trailing dots and spaces,
    # GIT~1), in any case: lower() maps no other character to g, i or t.
    special = r"(?:\.\.?|\.[gG][iI][tT][. ]*|[gG][iI][tT]~1[. ]*)"
    component = f"(?!{special}(?:/|$)){char}+"
    return f"^{component}(?:/{component}){{0,{MAX_DEPTH - 1}}}$"


PATH_RULES = (
    f"A relative POSIX path of 1-{MAX_PATH_BYTES} bytes of UTF-8: no leading '/', "
    "no backslash, control or invisible format character, no empty, '.' or '..' "
    "component, no '.git' component in any case (nor '.git.', '.git ' or 'GIT~1', "
    f"as NTFS reads them), at most {MAX_DEPTH} components."
)
