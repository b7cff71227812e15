"""Bearer tokens: who is calling, and may they touch this workspace?

Tokens are random secrets stored as sha256 (they carry 256 bits of entropy, so a slow
hash buys nothing). A token belongs to one workspace with one role, or to no workspace
(an instance admin, who acts as ``admin`` in every workspace).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import g, request
from sqlalchemy import or_, select

from app.db import get_session
from app.errors import Forbidden, NotFound, Unauthorized
from app.models import ROLES, ApiToken, Workspace, utcnow

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
        return self.workspace_id is None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def authenticate(session, secret: str | None) -> Principal | None:
    """Return the principal of a live token, or None."""
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


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_principal() -> Principal:
    """The caller of this request; 401 without a valid bearer token."""
    if "principal" not in g:
        principal = authenticate(get_session(), bearer_secret())
        if principal is None:
            raise Unauthorized("A valid bearer token is required.")
        g.principal = principal
    return g.principal


def find_workspace(session, ref: str) -> Workspace | None:
    return session.scalar(
        select(Workspace).where(or_(Workspace.id == ref, Workspace.slug == ref))
    )


def role_allows(principal: Principal, workspace_id: str, role: str) -> bool | None:
    """True/False when the principal is a member; None when not (→ 404)."""
    if principal.is_instance_admin:
        return True
    if principal.workspace_id != workspace_id:
        return None
    return ROLE_RANK[principal.role] >= ROLE_RANK[role]


def require_workspace(ref: str, role: str = "viewer") -> Workspace:
    """Resolve ``{ws}`` (id or slug): 404 outside the token's workspace, 403 below."""
    principal = current_principal()
    workspace = find_workspace(get_session(), ref)
    allowed = None if workspace is None else role_allows(principal, workspace.id, role)
    if allowed is None:
        raise NotFound(f"Workspace {ref!r} not found.")
    if not allowed:
        raise Forbidden(f"This action needs the {role!r} role in this workspace.")
    return workspace


def require_instance_admin() -> Principal:
    principal = current_principal()
    if not principal.is_instance_admin:
        raise Forbidden("This action needs an instance-admin token.")
    return principal
