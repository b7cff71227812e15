"""Configs and the read side of their versions: create/list/get/delete, the version
index with the draft read live from git, version files, diffs and draft history.

A config is a SQL row plus a bare repo. SQL only indexes what git holds, so the
draft's ``files_hash``/``commit`` are always read from the repo, never trusted from
the row.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import semver as semver_lib
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.models import DRAFT, PUBLISHED, Config, ConfigVersion, Workspace, new_id
from app.services.context import Context
from app.services.errors import Conflict, NotFound
from repos.errors import RepoNotFound
from repos.repo import ConfigRepo
from runner.scaffold import scaffold_files

# ----- the per-config lock ---------------------------------------------------


@contextmanager
def config_lock(data_dir: Path, config_id: str) -> Iterator[None]:
    """Serialise publish/revert/repair/delete of one config across threads and
    processes. ``flock`` is released by the kernel when its holder dies, so a
    ``kill -9`` never leaves the config locked."""
    locks = data_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    fd = os.open(locks / f"{config_id}.flock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# ----- representations ---------------------------------------------------------


def semver_key(semver: str | None) -> tuple:
    """Sort key: valid semvers in semver order, anything else before them."""
    if semver and semver_lib.Version.is_valid(semver):
        return (1, semver_lib.Version.parse(semver))
    return (0, semver or "")


def version_dict(row: ConfigVersion, repo: ConfigRepo | None = None) -> dict:
    """A version row as the API shows it; the draft's hash and commit come live
    from git when ``repo`` is given."""
    commit, files_hash = row.commit_sha, row.files_hash
    if row.status == DRAFT and repo is not None:
        commit, files_hash = repo.resolve(DRAFT), repo.tree_id(DRAFT)
    return {
        "id": row.id,
        "semver": row.semver,
        "status": row.status,
        "message": row.message,
        "files_hash": files_hash,
        "commit": commit,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "published_at": row.published_at,
    }


def draft_row(
    config_id: str, repo: ConfigRepo, created_by: str | None = None
) -> ConfigVersion:
    """The index row of a config's draft, at the draft branch's current tip."""
    return ConfigVersion(
        config_id=config_id,
        status=DRAFT,
        commit_sha=repo.resolve(DRAFT),
        files_hash=repo.tree_id(DRAFT),
        created_by=created_by,
    )


def open_repo(ctx: Context, config: Config) -> ConfigRepo:
    return ctx.store.open(config.workspace_id, config.id)


def clone_url(ctx: Context, workspace: Workspace, config: Config) -> str:
    """``<base>/git/<ws_slug>/<config_slug>.git``; the base is ``ADE_BASE_URL`` or
    the address the caller used (``ctx.base_url``)."""
    base = ctx.settings["BASE_URL"] or ctx.base_url
    return f"{base}/git/{workspace.slug}/{config.slug}.git"


def config_view(ctx: Context, workspace: Workspace, config: Config) -> dict:
    """The config with its live draft, its published version (or None) and clone_url."""
    repo = open_repo(ctx, config)
    rows = ctx.session.scalars(
        select(ConfigVersion).where(
            ConfigVersion.config_id == config.id,
            ConfigVersion.status.in_((DRAFT, PUBLISHED)),
        )
    ).all()
    draft_row = next((r for r in rows if r.status == DRAFT), None)
    published = next((r for r in rows if r.status == PUBLISHED), None)
    return {
        "id": config.id,
        "workspace_id": config.workspace_id,
        "slug": config.slug,
        "title": config.title,
        "created_by": config.created_by,
        "created_at": config.created_at,
        "draft": {
            "id": draft_row.id if draft_row else None,
            "files_hash": repo.tree_id(DRAFT),
            "commit": repo.resolve(DRAFT),
        },
        "published": version_dict(published) if published else None,
        "clone_url": clone_url(ctx, workspace, config),
    }


# ----- configs -------------------------------------------------------------------


def list_configs(ctx: Context, workspace: Workspace) -> list[dict]:
    configs = ctx.session.scalars(
        select(Config).where(Config.workspace_id == workspace.id).order_by(Config.slug)
    )
    return [config_view(ctx, workspace, c) for c in configs]


def create_config(ctx: Context, workspace: Workspace, slug: str, title: str) -> dict:
    """Create the repo (scaffold on ``draft``) and the SQL rows; if either fails,
    neither remains. The repo comes first because it is the cheap one to undo; a
    crash in between leaves an orphan repo that the reconciler removes."""
    session, principal = ctx.session, ctx.caller()
    exists = select(Config.id).where(
        Config.workspace_id == workspace.id, Config.slug == slug
    )
    if session.scalar(exists):
        raise Conflict(f"A config with slug {slug!r} already exists.")
    config = Config(
        id=new_id(),
        workspace_id=workspace.id,
        slug=slug,
        title=title,
        created_by=principal.name,
    )
    store = ctx.store
    repo = store.create(
        workspace.id,
        config.id,
        scaffold_files(title),
        ctx.author(),
        message=f"Create config {slug}",
    )
    try:
        session.add(config)
        session.flush()
        session.add(draft_row(config.id, repo, principal.name))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        store.delete(workspace.id, config.id)
        raise Conflict(f"A config with slug {slug!r} already exists.") from exc
    except BaseException:
        session.rollback()
        store.delete(workspace.id, config.id)
        raise
    return config_view(ctx, workspace, config)


def delete_config(ctx: Context, workspace: Workspace, config: Config, force: bool):
    """Delete the rows (versions and jobs cascade), then the repo. A conflict while
    the config has versions, unless ``force``."""
    session, store = ctx.session, ctx.store
    with config_lock(ctx.data_dir, config.id):
        has_rows = session.scalar(
            select(ConfigVersion.id).where(
                ConfigVersion.config_id == config.id, ConfigVersion.status != DRAFT
            )
        )
        try:
            has_tags = bool(open_repo(ctx, config).tags())
        except RepoNotFound:
            has_tags = False
        if (has_rows or has_tags) and not force:
            raise Conflict(
                f"Config {config.slug!r} has published versions; "
                "pass ?force=true to delete it anyway."
            )
        # SQL first: a crash after it leaves an orphan repo (harmless, repaired),
        # never a config row whose repo is gone.
        session.execute(delete(Config).where(Config.id == config.id))
        session.commit()
        try:
            store.delete(workspace.id, config.id)
        except RepoNotFound:
            pass


# ----- versions (read side) -----------------------------------------------------


def list_versions(ctx: Context, config: Config) -> list[dict]:
    """Every version, newest first: the draft, then by semver descending."""
    repo = open_repo(ctx, config)
    rows = ctx.session.scalars(
        select(ConfigVersion).where(ConfigVersion.config_id == config.id)
    )
    ordered = sorted(
        rows, key=lambda r: (r.status == DRAFT, semver_key(r.semver)), reverse=True
    )
    return [version_dict(r, repo) for r in ordered]


def get_version(ctx: Context, config: Config, version_id: str) -> ConfigVersion:
    row = ctx.session.scalar(
        select(ConfigVersion).where(
            ConfigVersion.config_id == config.id, ConfigVersion.id == version_id
        )
    )
    if row is None:
        raise NotFound(f"Version {version_id!r} not found.")
    return row


def version_ref(ctx: Context, config: Config, ref: str) -> str:
    """The git ref of ``draft`` or a version id: its tag for published versions."""
    if ref == DRAFT:
        return DRAFT
    row = get_version(ctx, config, ref)
    return DRAFT if row.status == DRAFT else f"refs/tags/v{row.semver}"


def list_version_files(ctx: Context, config: Config, version_id: str) -> list[dict]:
    ref = version_ref(ctx, config, version_id)
    files = open_repo(ctx, config).list_files(ref)
    return [{"path": f.path, "sha": f.sha, "size": f.size} for f in files]


def read_version_file(ctx: Context, config: Config, version_id: str, path: str):
    ref = version_ref(ctx, config, version_id)
    content = open_repo(ctx, config).read_file(path, ref)
    out = {
        "path": content.path,
        "sha": content.sha,
        "sha256": hashlib.sha256(content.data).hexdigest(),
        "size": content.size,
    }
    try:
        out.update(code=content.data.decode("utf-8"), encoding="utf-8", content=None)
    except UnicodeDecodeError:
        encoded = base64.b64encode(content.data).decode("ascii")
        out.update(code=None, encoding="base64", content=encoded)
    return out


def diff(ctx: Context, config: Config, from_ref: str, to_ref: str) -> dict:
    """Per-file status and unified patch between two versions (or the draft)."""
    repo = open_repo(ctx, config)
    entries = repo.diff(
        version_ref(ctx, config, from_ref), version_ref(ctx, config, to_ref)
    )
    return {
        "from_": from_ref,
        "to": to_ref,
        "files": [
            {
                "path": e.path,
                "status": e.status,
                "additions": e.additions,
                "deletions": e.deletions,
                "patch": e.patch,
            }
            for e in entries
        ],
    }


def history(ctx: Context, config: Config, limit: int) -> list[dict]:
    """Draft commits, newest first."""
    return [
        {
            "sha": c.sha,
            "message": c.message,
            "author": {"name": c.author.name, "email": c.author.email},
            "time": c.time,
            "paths": list(c.paths),
        }
        for c in open_repo(ctx, config).history(DRAFT, limit=limit)
    ]
