"""The one place that decides whether a path inside a config tree is safe (SPEC §2)."""

from __future__ import annotations

import re
import unicodedata

from repos.errors import UnsafePath

MAX_PATH_BYTES = 255
# Workspace and config ids become directory names: keep them to a dull alphabet.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def validate_path(path: str, *, max_depth: int = 8) -> str:
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
