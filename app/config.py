"""Every setting of the service, read in one place.

Order: defaults, then the environment (``ADE_*``), then the mapping a caller (the
tests) passes to ``create_app``. Nothing else in the project reads ``os.environ``.
"""

from __future__ import annotations

import os
from pathlib import Path

MIB = 1024 * 1024


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name) or choices[0]
    if raw not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {raw!r}")
    return raw


def load_settings(env: dict[str, str] | None = None) -> dict:
    """Return the settings as a flat dict of Flask config keys."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("ADE_DATA_DIR") or "./data").resolve()
    database_url = env.get("ADE_DATABASE_URL") or f"sqlite:///{data_dir / 'ade.db'}"
    cache_home = env.get("XDG_CACHE_HOME") or str(
        Path(env.get("HOME") or "/") / ".cache"
    )
    return {
        "DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        # Public base URL used in clone_url; empty = taken from the request.
        "BASE_URL": env.get("ADE_BASE_URL", "").rstrip("/"),
        "GIT_EMAIL_DOMAIN": env.get("ADE_GIT_EMAIL_DOMAIN") or "ade.local",
        "JOB_BACKEND": _choice(env, "ADE_JOB_BACKEND", ("local", "celery")),
        "JOB_CONCURRENCY": _int(env, "ADE_JOB_CONCURRENCY", 2),
        "JOB_MAX_ATTEMPTS": _int(env, "ADE_JOB_MAX_ATTEMPTS", 3),
        "JOB_HEARTBEAT_SECONDS": _int(env, "ADE_JOB_HEARTBEAT_SECONDS", 5),
        "JOB_HEARTBEAT_TIMEOUT": _int(env, "ADE_JOB_HEARTBEAT_TIMEOUT", 30),
        "BROKER_URL": env.get("ADE_BROKER_URL") or "redis://127.0.0.1:6379/0",
        "BROKER_PREFIX": env.get("ADE_BROKER_PREFIX") or "ade",
        # Stateless workers (``ade worker --api URL --token T``): the API's URL and
        # a worker token; with them set the worker needs no database or data dir.
        "API_URL": (env.get("ADE_API_URL") or "").rstrip("/"),
        "WORKER_TOKEN": env.get("ADE_WORKER_TOKEN") or "",
        "WORKER_CACHE_DIR": Path(
            env.get("ADE_WORKER_CACHE_DIR") or Path(cache_home) / "ade-worker"
        ),
        "WORKER_CONFIG_CACHE_BYTES": _int(env, "ADE_WORKER_CONFIG_CACHE_MB", 512) * MIB,
        "WORKER_DOCUMENT_CACHE_BYTES": _int(env, "ADE_WORKER_DOCUMENT_CACHE_MB", 2048)
        * MIB,
        # A worker's own Prometheus port (0: none) and the address it binds.
        "WORKER_METRICS_PORT": _int(env, "ADE_WORKER_METRICS_PORT", 0),
        "WORKER_METRICS_HOST": env.get("ADE_WORKER_METRICS_HOST") or "0.0.0.0",
        "MAX_UPLOAD_BYTES": _int(env, "ADE_MAX_UPLOAD_BYTES", 50 * MIB),
        "MAX_REQUEST_BYTES": _int(env, "ADE_MAX_REQUEST_BYTES", 1 * MIB),
        "MAX_FILE_BYTES": _int(env, "ADE_MAX_FILE_BYTES", 512 * 1024),
        "MAX_FILES": _int(env, "ADE_MAX_FILES", 2000),
        # git over HTTP: largest request body (a push's pack, after gunzip), and
        # whether guardrail findings in a pushed tree block the push or only warn.
        "GIT_MAX_REQUEST_BYTES": _int(env, "ADE_GIT_MAX_REQUEST_BYTES", 100 * MIB),
        "GIT_PUSH_GUARDRAILS": _choice(
            env, "ADE_GIT_PUSH_GUARDRAILS", ("warn", "block")
        ),
        "SANDBOX_WALL_SECONDS": _int(env, "ADE_SANDBOX_WALL_SECONDS", 300),
        "SANDBOX_CPU_SECONDS": _int(env, "ADE_SANDBOX_CPU_SECONDS", 240),
        "SANDBOX_MEMORY_BYTES": _int(env, "ADE_SANDBOX_MEMORY_MB", 2048) * MIB,
        # Service memory one run's report, messages and logs may take (Limits).
        "SANDBOX_REPORT_BYTES": _int(env, "ADE_SANDBOX_MAX_REPORT_MB", 64) * MIB,
        # Warm sandbox workers kept ready per process that runs sandboxes (API
        # process, job executor, ``ade worker``); each is used for one run. 0: off.
        "SANDBOX_POOL_SIZE": _int(env, "ADE_SANDBOX_POOL_SIZE", 2),
        # A warm worker unused this long is replaced (0 turns the pool off too).
        "SANDBOX_POOL_IDLE_SECONDS": _int(env, "ADE_SANDBOX_POOL_IDLE_SECONDS", 600),
        "DRY_RUN_WALL_SECONDS": _int(env, "ADE_DRY_RUN_WALL_SECONDS", 60),
        # Dry runs run on their own pool of threads in each API process, never on
        # the request's: its size, how many may wait for it, how long a POST waits
        # for the report before answering 202, and how many may be in flight at
        # once per token and per workspace on this host (0: no limit).
        "DRY_RUN_WORKERS": _int(env, "ADE_DRY_RUN_WORKERS", 2),
        "DRY_RUN_QUEUE": _int(env, "ADE_DRY_RUN_QUEUE", 8),
        "DRY_RUN_SYNC_SECONDS": _int(env, "ADE_DRY_RUN_SYNC_SECONDS", 5),
        "DRY_RUN_PER_TOKEN": _int(env, "ADE_DRY_RUN_PER_TOKEN", 2),
        "DRY_RUN_PER_WORKSPACE": _int(env, "ADE_DRY_RUN_PER_WORKSPACE", 4),
        # Per-token request rates on the expensive endpoints ("N/second|minute|hour";
        # empty: no limit), counted in RATE_LIMIT_STORAGE: Redis when jobs use it.
        "RATE_LIMIT_DRY_RUN": env.get("ADE_RATE_LIMIT_DRY_RUN", "30/minute"),
        "RATE_LIMIT_UPLOAD": env.get("ADE_RATE_LIMIT_UPLOAD", "60/minute"),
        "RATE_LIMIT_JOBS": env.get("ADE_RATE_LIMIT_JOBS", "120/minute"),
        "RATE_LIMIT_PUBLISH": env.get("ADE_RATE_LIMIT_PUBLISH", "30/minute"),
        "RATE_LIMIT_STORAGE": env.get("ADE_RATE_LIMIT_STORAGE")
        or (
            env.get("ADE_BROKER_URL") or "redis://127.0.0.1:6379/0"
            if env.get("ADE_JOB_BACKEND") == "celery"
            else "memory://"
        ),
        # Dry-run outputs kept for the editor's downloads, per workspace.
        "DRY_RUN_KEEP": _int(env, "ADE_DRY_RUN_KEEP", 20),
        "DRY_RUN_KEEP_HOURS": _int(env, "ADE_DRY_RUN_KEEP_HOURS", 24),
        # How long a process answers a token from memory (0: ask the database on
        # every request); a revocation reaches other processes within this.
        "AUTH_CACHE_SECONDS": _int(env, "ADE_AUTH_CACHE_SECONDS", 5),
        "LOG_FORMAT": env.get("ADE_LOG_FORMAT") or "json",
        "LOG_LEVEL": env.get("ADE_LOG_LEVEL") or "INFO",
    }
