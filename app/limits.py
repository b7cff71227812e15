"""Request rate limits per token on the expensive endpoints (dry run, upload, job
submit, publish), with Flask-Limiter.

Counters live in Redis when the service has one (``ADE_RATE_LIMIT_STORAGE``, by
default the broker when jobs run on Celery), so every process and host shares them;
otherwise in this process's memory. A request past its limit is answered 429 with
``Retry-After`` (problem+json, like every error).
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limiter

from app.auth import bearer_secret
from app.schemas.problem import PROBLEM, ProblemSchema

# The endpoints with a limit, and the setting that holds it ("30/minute"; "" = none).
LIMITED = {
    "dry_run": "RATE_LIMIT_DRY_RUN",
    "upload": "RATE_LIMIT_UPLOAD",
    "jobs": "RATE_LIMIT_JOBS",
    "publish": "RATE_LIMIT_PUBLISH",
}


def _caller_key() -> str:
    """The token (its hash: the secret itself never becomes a storage key); the
    client address for requests without one (they get 401 anyway)."""
    secret = bearer_secret()
    if secret:
        return "token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


limiter = Limiter(key_func=_caller_key, headers_enabled=True)


def init_app(app: Flask) -> None:
    cfg = app.config
    app.config.setdefault("RATELIMIT_STORAGE_URI", cfg["RATE_LIMIT_STORAGE"])
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{cfg['BROKER_PREFIX']}:ratelimit")
    # A storage outage must not take the API down with it: count in memory then.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)


RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds until the limit lets this token through again.",
        "schema": {"type": "integer"},
    }
}


def rate_limited(bp, kind: str, description: str | None = None):
    """Decorate a view of ``bp`` with the per-token limit of ``kind`` (a key of
    LIMITED), and document its 429 answer (``description``: what else it means
    here)."""
    setting = LIMITED[kind]
    limit = limiter.limit(
        lambda: current_app.config[setting] or "1000000/second",
        scope=kind,
        exempt_when=lambda: not current_app.config[setting],
    )
    document = bp.alt_response(
        429,
        schema=ProblemSchema,
        content_type=PROBLEM,
        headers=RETRY_AFTER_HEADER,
        description=description
        or "Too many requests from this token; retry after Retry-After.",
        success=False,
    )
    return lambda view: document(limit(view))
