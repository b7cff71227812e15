"""Who is calling, and may they touch this workspace or config?

Tokens are random secrets stored as sha256 (they carry 256 bits of entropy, so a slow
hash buys nothing). A token belongs to one workspace with one role, or to no workspace
(an instance admin, who acts as ``admin`` in every workspace). Anything outside the
caller's workspace is "not found", never "forbidden": existence is not leaked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import ROLES, WORKER, ApiToken, Config, Workspace, utcnow
from app.services.errors import NotFound, NotPermitted

if TYPE_CHECKING:
    from app.services.context import Context

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
SECRET_PREFIX = "ade_"


@dataclass(frozen=True)
class Principal:
    token_id: str
    name: str
    workspace_id: str | None
    role: str

    @property
    def is_instance_admin(self) -> bool:
        return self.workspace_id is None and self.role != WORKER

    @property
    def is_worker(self) -> bool:
        """A job worker's token: only the worker calls, no workspace role."""
        return self.role == WORKER


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def authenticate(session: Session, secret: str | None) -> Principal | None:
    """The principal of a live token, or None."""
    if not secret:
        return None
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.secret_hash == hash_secret(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None:
        return None
    now = utcnow()
    # Record use at most once a minute: a write per request would serialise SQLite.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.commit()
    return Principal(token.id, token.name, token.workspace_id, token.role)


def check_surface(principal: Principal, worker_call: bool) -> None:
    """Worker tokens make worker calls only, and only worker tokens make them."""
    if principal.is_worker and not worker_call:
        raise NotPermitted("A worker token may only make the worker calls.")
    if worker_call and not principal.is_worker:
        raise NotPermitted("Only a worker token may make the worker calls.")


def find_workspace(session: Session, ref: str) -> Workspace | None:
    """A workspace by id or slug."""
    return session.scalar(
        select(Workspace).where(or_(Workspace.id == ref, Workspace.slug == ref))
    )


def role_allows(principal: Principal, workspace_id: str, role: str) -> bool | None:
    """True/False when the principal is a member; None when not (→ not found)."""
    if principal.is_instance_admin:
        return True
    if principal.is_worker or principal.workspace_id != workspace_id:
        return None
    return ROLE_RANK[principal.role] >= ROLE_RANK[role]


def workspace(ctx: Context, ref: str, role: str = "viewer") -> Workspace:
    """Resolve ``{ws}`` (id or slug) for the caller: not found outside its
    workspace, not permitted below ``role``."""
    principal = ctx.caller()
    found = find_workspace(ctx.session, ref)
    allowed = None if found is None else role_allows(principal, found.id, role)
    if allowed is None:
        raise NotFound(f"Workspace {ref!r} not found.")
    if not allowed:
        raise NotPermitted(f"This action needs the {role!r} role in this workspace.")
    return found


def config(ctx: Context, ws: Workspace, ref: str) -> Config:
    """A config of ``ws`` by id or slug."""
    found = ctx.session.scalar(
        select(Config).where(
            Config.workspace_id == ws.id, or_(Config.id == ref, Config.slug == ref)
        )
    )
    if found is None:
        raise NotFound(f"Config {ref!r} not found.")
    return found


def instance_admin(ctx: Context) -> Principal:
    """The caller, who must hold an instance-admin token."""
    principal = ctx.caller()
    if not principal.is_instance_admin:
        raise NotPermitted("This action needs an instance-admin token.")
    return principal
