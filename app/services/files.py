"""Draft files: list, read, create, update and delete, with blob-id ETags.

Writers say which version of a file they replace (``expected``: blob ids or sha256
of the content, parsed from ``If-Match`` at the edge); see ``app.services.draft``.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from app.services import manifest as manifest_service
from app.services.draft import Draft, require_version, sha256_hex
from app.services.errors import Conflict, Invalid
from app.services.retry import Retry, until_settled
from repos.errors import PathNotFound
from repos.errors import PreconditionFailed as RepoPreconditionFailed
from repos.types import FileContent
from runner.checks import MANIFEST, check_package
from runner.scaffold import default_template, file_template

LANGUAGES = {
    ".py": "python",
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".csv": "csv",
    ".ini": "ini",
    ".cfg": "ini",
}


@dataclass(frozen=True)
class DraftFile:
    """One draft file as the API shows it. Text files carry ``code``; files that
    are not UTF-8 carry their bytes in ``content`` (``encoding: "base64"``, and
    ``binary`` is true), as the version files endpoint does."""

    path: str
    sha: str
    sha256: str
    size: int
    language: str
    binary: bool
    code: str | None
    encoding: str
    content: str | None


@dataclass(frozen=True)
class WrittenFile:
    """The result of a create or update: the file's new ETag and the commit."""

    path: str
    sha: str
    sha256: str
    size: int
    commit: str
    warnings: list[dict]


def language_for(path: str) -> str:
    """The editor language of a path, from its extension (``text`` if unknown)."""
    return LANGUAGES.get(posixpath.splitext(path)[1].lower(), "text")


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def encode_text(text: str, what: str = "code") -> bytes:
    """UTF-8 bytes of ``text``; invalid with lone surrogates (JSON allows them)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Invalid(f"{what} is not valid Unicode: {exc.reason}") from exc


def script_problems(draft: Draft, path: str, data: bytes) -> list[dict]:
    """The package check's findings for one script about to be saved (warnings at
    save time, SPEC §6), with the draft manifest's pins allowed as at publish."""
    if not path.endswith(".py"):
        return []
    files = {path: data}
    try:
        files[MANIFEST] = draft.repo.read_file(MANIFEST, "draft").data
    except PathNotFound:
        pass
    # Only this script's findings are reported, so the manifest is not checked
    # against the whole tree (its problems are the manifest save's to report).
    check = check_package(files, scripts=[path])
    return [p.to_dict() for p in check.about("guardrail")]


def to_draft_file(file: FileContent) -> DraftFile:
    try:
        code, encoded = file.data.decode("utf-8"), None
    except UnicodeDecodeError:
        code, encoded = None, base64.b64encode(file.data).decode("ascii")
    return DraftFile(
        path=file.path,
        sha=file.sha,
        sha256=sha256_hex(file.data),
        size=file.size,
        language="binary" if code is None else language_for(file.path),
        binary=code is None,
        code=code,
        encoding="utf-8" if code is not None else "base64",
        content=encoded,
    )


def list_files(draft: Draft) -> list[dict]:
    """``[{path, sha, size, language}]`` of the draft tree, sorted by path."""
    return [
        {"path": e.path, "sha": e.sha, "size": e.size, "language": language_for(e.path)}
        for e in draft.repo.list_files("draft")
    ]


def read_file(draft: Draft, path: str) -> DraftFile:
    """One draft file (not found if absent)."""
    return to_draft_file(draft.repo.read_file(path, "draft"))


def _written(path: str, data: bytes, commit: str, warnings: list[dict]) -> WrittenFile:
    return WrittenFile(
        path, blob_id(data), sha256_hex(data), len(data), commit, warnings
    )


def _initial_content(path: str, template: str | None, code: str | None) -> bytes:
    if code is not None and template is not None:
        raise Invalid("Give either 'code' or 'template', not both.")
    if code is not None:
        return encode_text(code)
    default, key = default_template(path)
    return file_template(template or default, key=key)


def create_file(
    draft: Draft, path: str, template: str | None = None, code: str | None = None
) -> WrittenFile:
    """A new draft file from ``code`` or a template (a conflict if it exists)."""
    data = _initial_content(path, template, code)
    if path == MANIFEST:
        # Only reachable when the manifest is missing: it is checked like a PUT.
        result = manifest_service.write_manifest(draft, data, expected_sha=None)
        return _written(path, data, result.commit, [])
    warnings = script_problems(draft, path, data)
    result = draft.repo.write_file(path, data, author=draft.author, create=True)
    return _written(path, data, result.commit, warnings)


def update_file(
    draft: Draft, path: str, code: str, expected: Sequence[str]
) -> WrittenFile:
    """Replace a draft file's content; ``expected`` must name its current version
    (stale otherwise, not found when the file does not exist)."""
    data = encode_text(code)
    current = draft.repo.read_file(path, "draft")
    require_version(expected, current)
    if path == MANIFEST:
        result = manifest_service.write_manifest(draft, data, expected_sha=current.sha)
        return _written(path, data, result.commit, [])
    warnings = script_problems(draft, path, data)
    result = draft.repo.write_file(
        path, data, author=draft.author, expected_sha=current.sha
    )
    return _written(path, data, result.commit, warnings)


def delete_file(draft: Draft, path: str, expected: Sequence[str] | None) -> None:
    """Delete a draft file. The manifest cannot be deleted, nor a file the manifest
    names (a conflict: remove its entry first, so the draft stays runnable). The
    manifest is pinned in the same commit, so a concurrent manifest edit that
    starts naming the file makes one of the two writes retry and see the other.
    ``expected`` (optional) must name the file's current version."""
    if path == MANIFEST:
        # A conflict like a script the manifest names: the draft needs it to run.
        raise Conflict("manifest.json cannot be deleted: a config needs one.")

    def attempt() -> None:
        tip = draft.repo.resolve("draft")
        current = draft.repo.read_file(path, tip)
        if expected is not None:
            require_version(expected, current)
        snapshot = manifest_service.load_snapshot(draft.repo, tip)
        where = manifest_service.referenced_by(snapshot.manifest, path)
        if where:
            raise Conflict(
                f"{path!r} is named by the manifest ({where}); remove that entry "
                "first (PATCH the manifest)."
            )
        changes: dict[str, bytes | None] = {path: None}
        pinned: dict[str, str | None] = {path: current.sha}
        if snapshot.file is not None:
            changes[MANIFEST] = snapshot.file.data
            pinned[MANIFEST] = snapshot.file.sha
        try:
            draft.repo.apply(
                changes, author=draft.author, message=f"Delete {path}", expected=pinned
            )
        except RepoPreconditionFailed as exc:
            if expected is not None and exc.path == path:
                raise
            raise Retry from exc

    until_settled(attempt, "The draft kept changing during the delete; try again.")


def resolve_expected(draft: Draft, path: str, expected: Sequence[str] | None):
    """The blob id ``expected`` names for ``path`` (None without one), so a later
    CAS write can re-check it; stale when it names another version."""
    if expected is None:
        return None
    current = draft.repo.read_file(path, "draft")
    require_version(expected, current)
    return current.sha


def add_column(
    draft: Draft,
    key: str,
    label: str,
    required: bool = False,
    template: str = "column",
) -> dict:
    """Add Column: the script and its manifest entry in one commit (see
    ``manifest.add_column``), with the script's ETag and guardrail warnings."""
    result = manifest_service.add_column(
        draft,
        key,
        encode_text(label, "label").decode(),
        required=required,
        template=template,
    )
    code = result.pop("code")
    return {
        **result,
        "sha256": sha256_hex(code),
        "size": len(code),
        "warnings": script_problems(draft, result["path"], code),
    }
