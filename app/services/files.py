"""Draft files: list, read, create, update and delete, with blob-id ETags.

The ETag of a file is its git blob id. ``If-Match`` may also carry the content's
sha256 (scripts of the original plan read ``.sha256``): it is translated into the
blob id read here, and that blob id is what the store's compare-and-swap re-checks
when it commits, so the check and the write are one atomic step.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import re
from dataclasses import dataclass

from app.auth import current_principal, require_workspace
from app.errors import BadRequest, Conflict, PreconditionFailed, PreconditionRequired
from app.models import Config
from app.services import manifest as manifest_service
from app.services.store import author_for, get_config, open_repo
from repos.errors import PreconditionFailed as RepoPreconditionFailed
from repos.repo import ConfigRepo
from repos.scaffold import file_template
from repos.types import Author, FileContent
from runner.guardrails import check_source

MANIFEST = manifest_service.MANIFEST
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
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ETAG_RE = re.compile(r'\s*(?:W/)?"?([^",\s]*)"?\s*')
# Attempts at a multi-file commit that lost a race on a path the caller did not
# name in If-Match (the manifest, a pinned file): each retry starts from the new tip.
RETRIES = 8


@dataclass(frozen=True)
class Draft:
    """What a draft operation needs: the config, its repo, the commit author."""

    config: Config
    repo: ConfigRepo
    author: Author


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


def open_draft(ws_ref: str, config_ref: str, role: str) -> Draft:
    """Resolve workspace and config for the caller (404/403) and open the repo."""
    workspace = require_workspace(ws_ref, role)
    config = get_config(workspace, config_ref)
    return Draft(config, open_repo(config), author_for(current_principal()))


def language_for(path: str) -> str:
    """The editor language of a path, from its extension (``text`` if unknown)."""
    return LANGUAGES.get(posixpath.splitext(path)[1].lower(), "text")


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def parse_etags(header: str | None) -> list[str] | None:
    """The entity tags of an ``If-Match``/``If-None-Match`` header, or None when
    it is absent. Quoted, unquoted and weak (``W/``) tags are all accepted, since
    hand-written scripts send every form; ``*`` stays ``*``."""
    if header is None:
        return None
    tags = []
    for part in header.split(","):
        match = _ETAG_RE.fullmatch(part)
        tag = match.group(1) if match else part.strip()
        if tag:
            tags.append(tag.lower())
    return tags


def matches(tags: list[str], file: FileContent) -> bool:
    """True if one of ``tags`` names ``file`` by blob id or sha256 (or is ``*``)."""
    if "*" in tags or file.sha in tags:
        return True
    return any(len(t) == 64 for t in tags) and sha256_hex(file.data) in tags


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def require_match(if_match: str | None, file: FileContent, *, required: bool) -> bool:
    """Check ``If-Match`` against the file: 428 when required and absent, 412
    (with ``current_etag``) when it names another version. True if one was given."""
    tags = parse_etags(if_match)
    if not tags:
        # Present but empty is refused too: a client that meant to guard its
        # write must not get an unguarded one.
        if required or tags is not None:
            raise PreconditionRequired(
                f"Updating {file.path!r} needs an If-Match header with its ETag."
            )
        return False
    if not matches(tags, file):
        raise PreconditionFailed(
            f"{file.path!r} has changed; reload it and retry.", current_etag=file.sha
        )
    return True


def encode_text(text: str, what: str = "code") -> bytes:
    """UTF-8 bytes of ``text``; 400 for lone surrogates (JSON allows ``\\ud800``)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"{what} is not valid Unicode: {exc.reason}") from exc


def warnings_for(draft: Draft, path: str, data: bytes) -> list[dict]:
    """Guardrail findings of a saved script (warnings at save time, SPEC §6);
    modules the manifest pins are allowed, as at publish."""
    if not path.endswith(".py"):
        return []
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        return [
            {
                "path": path,
                "line": 1,
                "col": 0,
                "code": "syntax",
                "message": "not UTF-8",
            }
        ]
    extra = manifest_service.draft_pins(draft.repo)
    return [f.to_dict() for f in check_source(path, source, extra_modules=extra)]


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
    """One draft file (404 if absent)."""
    return to_draft_file(draft.repo.read_file(path, "draft"))


def _written(path: str, data: bytes, commit: str, warnings: list[dict]) -> WrittenFile:
    return WrittenFile(
        path, blob_id(data), sha256_hex(data), len(data), commit, warnings
    )


def _initial_content(path: str, template: str | None, code: str | None) -> bytes:
    if code is not None and template is not None:
        raise BadRequest("Give either 'code' or 'template', not both.")
    if code is not None:
        return encode_text(code)
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    if template is None:
        is_column = folder == "columns" and ext == ".py" and _KEY_RE.fullmatch(stem)
        template = "column" if is_column else "blank"
    key = stem if _KEY_RE.fullmatch(stem) else None
    return file_template(template, key=key)


def create_file(
    draft: Draft, path: str, template: str | None = None, code: str | None = None
) -> WrittenFile:
    """A new draft file from ``code`` or a template (409 if it exists)."""
    data = _initial_content(path, template, code)
    if path == MANIFEST:
        # Only reachable when the manifest is missing: it is validated like a PUT.
        result = manifest_service.write_manifest(draft, data, expected_sha=None)
        return _written(path, data, result.commit, [])
    result = draft.repo.write_file(path, data, author=draft.author, create=True)
    return _written(path, data, result.commit, warnings_for(draft, path, data))


def update_file(
    draft: Draft, path: str, code: str, if_match: str | None
) -> WrittenFile:
    """Replace a draft file's content; ``If-Match`` required (428/412/404)."""
    data = encode_text(code)
    current = draft.repo.read_file(path, "draft")
    require_match(if_match, current, required=True)
    if path == MANIFEST:
        result = manifest_service.write_manifest(draft, data, expected_sha=current.sha)
        return _written(path, data, result.commit, [])
    result = draft.repo.write_file(
        path, data, author=draft.author, expected_sha=current.sha
    )
    return _written(path, data, result.commit, warnings_for(draft, path, data))


def delete_file(draft: Draft, path: str, if_match: str | None) -> None:
    """Delete a draft file. The manifest cannot be deleted (400), nor a file the
    manifest names (409: remove its entry first, so the draft stays runnable).
    The manifest is pinned in the same commit, so a concurrent manifest edit that
    starts naming the file makes one of the two writes retry and see the other."""
    if path == MANIFEST:
        raise BadRequest("manifest.json cannot be deleted.")
    for _attempt in range(RETRIES):
        tip = draft.repo.resolve("draft")
        current = draft.repo.read_file(path, tip)
        named = require_match(if_match, current, required=False)
        snapshot = manifest_service.load_snapshot(draft.repo, tip, strict=False)
        where = manifest_service.referenced_by(snapshot.manifest, path)
        if where:
            raise Conflict(
                f"{path!r} is named by the manifest ({where}); remove that entry "
                "first (PATCH the manifest)."
            )
        changes: dict[str, bytes | None] = {path: None}
        expected: dict[str, str | None] = {path: current.sha}
        if snapshot.file is not None:
            changes[MANIFEST] = snapshot.file.data
            expected[MANIFEST] = snapshot.file.sha
        try:
            draft.repo.apply(
                changes,
                author=draft.author,
                message=f"Delete {path}",
                expected=expected,
            )
            return
        except RepoPreconditionFailed as exc:
            if named and exc.path == path:
                raise
    raise Conflict("The draft kept changing during the delete; try again.")


def resolve_if_match(draft: Draft, path: str, if_match: str | None) -> str | None:
    """The blob id an ``If-Match`` names for ``path`` (None without one), so a
    later CAS write can re-check it; 412 when it names another version."""
    if if_match is None:
        return None
    current = draft.repo.read_file(path, "draft")
    require_match(if_match, current, required=False)
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
        "warnings": warnings_for(draft, result["path"], code),
    }
