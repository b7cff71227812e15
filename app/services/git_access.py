"""Who may touch which repository over git's smart HTTP.

Viewers clone and fetch, authors push (SPEC §4 "Git over HTTP"). The answer is the
repo's path for the caller, or a service error: not found for anonymous callers'
guesses and other workspaces alike (existence is not leaked), not permitted below
the role.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.models import Config
from app.services.access import find_workspace, role_allows
from app.services.context import Context
from app.services.errors import NotFound, NotPermitted

ROLE_FOR = {"git-upload-pack": "viewer", "git-receive-pack": "author"}


def repository(ctx: Context, ws_slug: str, config_slug: str, service: str) -> Path:
    """The bare repo at ``/git/<ws_slug>/<config_slug>.git`` for the caller of
    ``service`` (``git-upload-pack`` or ``git-receive-pack``)."""
    principal, role = ctx.caller(), ROLE_FOR[service]
    workspace = find_workspace(ctx.session, ws_slug)
    allowed = None if workspace is None else role_allows(principal, workspace.id, role)
    config = None
    if allowed is not None:
        config = ctx.session.scalar(
            select(Config).where(
                Config.workspace_id == workspace.id, Config.slug == config_slug
            )
        )
    if config is None or not ctx.store.exists(workspace.id, config.id):
        raise NotFound(f"Repository {ws_slug}/{config_slug}.git not found.")
    if not allowed:
        raise NotPermitted(
            f"Pushing needs the {role!r} role; this token ({principal.name}) is a "
            f"{principal.role!r}."
        )
    return ctx.store.repo_path(workspace.id, config.id)
