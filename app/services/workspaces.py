"""Workspaces: the ones a caller sees, and creating one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Workspace
from app.services.access import Principal
from app.services.errors import Conflict


def visible_workspaces(session: Session, principal: Principal) -> list[Workspace]:
    """Every workspace for an instance admin; the token's own otherwise."""
    query = select(Workspace).order_by(Workspace.slug)
    if not principal.is_instance_admin:
        query = query.where(Workspace.id == principal.workspace_id)
    return list(session.scalars(query))


def create_workspace(session: Session, slug: str, name: str) -> Workspace:
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)):
        raise Conflict(f"A workspace with slug {slug!r} already exists.")
    workspace = Workspace(slug=slug, name=name)
    session.add(workspace)
    session.commit()
    return workspace
