"""Creating, listing and revoking API tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import TOKEN_ROLES, WORKER, ApiToken, Workspace, utcnow
from app.services.access import PRINCIPALS, hash_secret, new_secret
from app.services.errors import Invalid, NotFound


def create_token(
    session: Session, name: str, role: str = "admin", workspace_id: str | None = None
) -> tuple[ApiToken, str]:
    """Store a new token and return it with its secret (shown to the user once)."""
    if role not in TOKEN_ROLES:
        expected = ", ".join(TOKEN_ROLES)
        raise Invalid(f"Unknown role {role!r}; expected one of {expected}.")
    if not name or len(name) > 200:
        raise Invalid("A token name of 1-200 characters is required.")
    if role == WORKER and workspace_id is not None:
        raise Invalid("A worker token is instance-wide; it belongs to no workspace.")
    if workspace_id is None and role != WORKER:
        role = "admin"
    secret = new_secret()
    token = ApiToken(
        name=name, role=role, workspace_id=workspace_id, secret_hash=hash_secret(secret)
    )
    session.add(token)
    session.commit()
    return token, secret


def list_tokens(session: Session, workspace_id: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.workspace_id == workspace_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at, ApiToken.id)
        )
    )


def revoke_token(session: Session, workspace_id: str, token_id: str) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.workspace_id != workspace_id or token.revoked_at:
        raise NotFound(f"Token {token_id!r} not found.")
    token.revoked_at = utcnow()
    session.commit()
    PRINCIPALS.forget(token.id)  # at once here; other processes: the cache TTL


def describe_caller(ctx) -> dict:
    """The calling token as the editor shows it (never its secret)."""
    principal = ctx.caller()
    workspace = (
        None
        if principal.is_instance_admin
        else ctx.session.get(Workspace, principal.workspace_id)
    )
    return {
        "id": principal.token_id,
        "name": principal.name,
        "role": principal.role,
        "instance_admin": principal.is_instance_admin,
        "workspace": workspace,
    }
