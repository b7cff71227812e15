"""Creating workspaces."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import Workspace


def create_workspace(session: Session, slug: str, name: str) -> Workspace:
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)):
        raise Conflict(f"A workspace with slug {slug!r} already exists.")
    workspace = Workspace(slug=slug, name=name)
    session.add(workspace)
    session.commit()
    return workspace
