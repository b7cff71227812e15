"""Who may touch which repository over git's smart HTTP.

Viewers clone and fetch, authors push (SPEC §4 "Git over HTTP"). A worker token
may only fetch, and only the tags of the versions its running jobs use: every
other ref is hidden from it (``only_refs``). The answer is the repo's path for the
caller, or a service error: not found for anonymous callers' guesses and other
workspaces alike (existence is not leaked), not permitted below the role.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.models import RUNNING, Config, ConfigVersion, Job
from app.services.access import find_workspace, role_allows
from app.services.context import Context
from app.services.errors import NotFound, NotPermitted

ROLE_FOR = {"git-upload-pack": "viewer", "git-receive-pack": "author"}


@dataclass(frozen=True)
class GitTarget:
    """A repository a caller may use; ``only_refs`` None means every ref."""

    path: Path
    only_refs: tuple[str, ...] | None = None


def repository(ctx: Context, ws_slug: str, config_slug: str, service: str) -> GitTarget:
    """The bare repo at ``/git/<ws_slug>/<config_slug>.git`` for the caller of
    ``service`` (``git-upload-pack`` or ``git-receive-pack``)."""
    principal, role = ctx.caller(), ROLE_FOR[service]
    workspace = find_workspace(ctx.session, ws_slug)
    if principal.is_worker:
        return _for_worker(ctx, workspace, config_slug, service)
    allowed = None if workspace is None else role_allows(principal, workspace.id, role)
    config = None
    if allowed is not None:
        config = _config(ctx, workspace, config_slug)
    if config is None or not ctx.store.exists(workspace.id, config.id):
        raise NotFound(f"Repository {ws_slug}/{config_slug}.git not found.")
    if not allowed:
        raise NotPermitted(
            f"Pushing needs the {role!r} role; this token ({principal.name}) is a "
            f"{principal.role!r}."
        )
    return GitTarget(ctx.store.repo_path(workspace.id, config.id))


def _config(ctx: Context, workspace, slug: str) -> Config | None:
    return ctx.session.scalar(
        select(Config).where(Config.workspace_id == workspace.id, Config.slug == slug)
    )


def _for_worker(ctx: Context, workspace, config_slug: str, service: str) -> GitTarget:
    """A worker sees a repo only while it runs a job of it, and then only the
    tags of those jobs' versions."""
    config = None if workspace is None else _config(ctx, workspace, config_slug)
    tags: tuple[str, ...] = ()
    if config is not None:
        semvers = ctx.session.scalars(
            select(ConfigVersion.semver)
            .join(Job, Job.config_version_id == ConfigVersion.id)
            .where(
                ConfigVersion.config_id == config.id,
                Job.status == RUNNING,
                Job.claimed_by == ctx.caller().token_id,
            )
            .distinct()
        )
        tags = tuple(sorted(f"refs/tags/v{s}" for s in semvers if s))
    if not tags or not ctx.store.exists(workspace.id, config.id):
        raise NotFound(
            f"Repository {workspace and workspace.slug}/{config_slug}.git not found."
        )
    if service != "git-upload-pack":
        raise NotPermitted("A worker token may only fetch.")
    return GitTarget(ctx.store.repo_path(workspace.id, config.id), tags)
