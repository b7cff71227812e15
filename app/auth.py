"""Who is calling this request: the bearer token, checked once per request.

The rules (roles, workspaces, hashing) are the services' (``app.services.access``);
this module only reads the request's ``Authorization`` header.
"""

from __future__ import annotations

from flask import current_app, g, request

from app.db import get_session
from app.services.access import Principal, authenticate
from app.services.errors import Unauthenticated


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_principal() -> Principal:
    """The caller of this request; unauthenticated without a valid bearer token."""
    if "principal" not in g:
        principal = authenticate(
            get_session(), bearer_secret(), current_app.config["AUTH_CACHE_SECONDS"]
        )
        if principal is None:
            raise Unauthenticated("A valid bearer token is required.")
        g.principal = principal
    return g.principal
