"""Workspaces: the ones a caller sees, creating, renaming and deleting one.

Deleting a workspace deletes everything in it: its configs (rows and repos), its
documents (rows, and their bytes unless another workspace uploaded the same bytes),
its jobs with their outputs, its dry-run outputs and its tokens. Because that is a
lot to lose by accident, a workspace that holds configs, documents or jobs is kept
(a conflict) unless the caller says ``force``. Rows go first, files second, as for
a config: a crash in between leaves orphan files (repos are removed by the
reconciler; other files are harmless), never a row whose files are gone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import delete, func, select

from app.models import Config, Document, Job, Workspace
from app.services import access
from app.services.configs import config_lock
from app.services.context import Context
from app.services.documents import blob_path
from app.services.dryrun_store import workspace_dir as dry_runs_dir
from app.services.errors import Conflict
from app.services.jobs import job_dir
from repos.errors import RepoNotFound


def visible_workspaces(session, principal: access.Principal) -> list[Workspace]:
    """Every workspace for an instance admin; the token's own otherwise."""
    query = select(Workspace).order_by(Workspace.slug)
    if not principal.is_instance_admin:
        query = query.where(Workspace.id == principal.workspace_id)
    return list(session.scalars(query))


def _slug_taken(session, slug: str, but: str | None = None) -> bool:
    query = select(Workspace.id).where(Workspace.slug == slug)
    if but is not None:
        query = query.where(Workspace.id != but)
    return session.scalar(query) is not None


def create_workspace(session, slug: str, name: str) -> Workspace:
    if _slug_taken(session, slug):
        raise Conflict(f"A workspace with slug {slug!r} already exists.")
    workspace = Workspace(slug=slug, name=name)
    session.add(workspace)
    session.commit()
    return workspace


def update_workspace(
    ctx: Context, ref: str, *, slug: str | None = None, name: str | None = None
) -> Workspace:
    """Rename a workspace (instance admin). A new slug changes its clone URLs:
    git remotes that name the old slug stop working."""
    workspace = access.workspace(ctx, ref, "admin")  # 404 outside, first
    access.instance_admin(ctx)
    if slug is not None and slug != workspace.slug:
        if _slug_taken(ctx.session, slug, but=workspace.id):
            raise Conflict(f"A workspace with slug {slug!r} already exists.")
        workspace.slug = slug
    if name is not None:
        workspace.name = name
    ctx.session.commit()
    return workspace


def contents(ctx: Context, workspace: Workspace) -> dict[str, int]:
    """How many configs, documents and jobs the workspace holds."""
    count = {
        name: ctx.session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.workspace_id == workspace.id)
        )
        for name, model in (("configs", Config), ("documents", Document), ("jobs", Job))
    }
    return count


def delete_workspace(ctx: Context, ref: str, *, force: bool = False) -> None:
    """Delete a workspace and everything in it (instance admin); a conflict while
    it holds configs, documents or jobs, unless ``force``."""
    session = ctx.session
    workspace = access.workspace(ctx, ref, "admin")  # 404 outside, first
    access.instance_admin(ctx)
    held = {k: n for k, n in contents(ctx, workspace).items() if n}
    if held and not force:
        what = ", ".join(f"{n} {k}" for k, n in held.items())
        raise Conflict(
            f"Workspace {workspace.slug!r} holds {what}; pass ?force=true to delete "
            "it with everything in it.",
            holds=held,
        )
    ws_id = workspace.id
    config_ids = list(
        session.scalars(select(Config.id).where(Config.workspace_id == ws_id))
    )
    job_ids = list(session.scalars(select(Job.id).where(Job.workspace_id == ws_id)))
    shas = set(
        session.scalars(select(Document.sha256).where(Document.workspace_id == ws_id))
    )
    for config_id in config_ids:  # wait for a publish or revert in flight
        with config_lock(ctx.data_dir, config_id):
            pass
    # Jobs first: their rows name versions and documents. A running job notices
    # its row is gone at its next heartbeat and stops.
    session.execute(delete(Job).where(Job.workspace_id == ws_id))
    session.execute(delete(Workspace).where(Workspace.id == ws_id))
    session.commit()
    access.PRINCIPALS.forget_workspace(ws_id)  # its tokens went with it
    _remove_files(ctx, ws_id, config_ids, job_ids, shas)


def _remove_files(
    ctx: Context, ws_id: str, config_ids: list[str], job_ids: list[str], shas: set[str]
) -> None:
    for config_id in config_ids:
        try:
            ctx.store.delete(ws_id, config_id)
        except RepoNotFound:
            pass
    for job_id in job_ids:
        shutil.rmtree(job_dir(ctx.data_dir, job_id), ignore_errors=True)
    still_used = set(
        ctx.session.scalars(select(Document.sha256).where(Document.sha256.in_(shas)))
    )
    for sha in shas - still_used:
        Path(blob_path(ctx.data_dir, sha)).unlink(missing_ok=True)
    shutil.rmtree(dry_runs_dir(ctx.data_dir, ws_id), ignore_errors=True)
    try:  # the workspace's repo folder, empty now
        (ctx.store.root / ws_id).rmdir()
    except OSError:
        pass
