"""Where Flask meets the services: the service ``Context`` of a request or of the app.

Views and the git endpoint call ``request_context()``; CLI commands, start-up and
tests call ``app_context()`` with a session of their own. Both hand the services the
app's one ``Store`` (opened in ``create_app``) and its settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, request
from sqlalchemy.orm import Session

from app.db import get_session
from app.services.access import Principal
from app.services.context import Context, make_store
from repos.store import Store


def init_app(app: Flask) -> None:
    """Open the store once per app."""
    app.extensions["ade.store"] = make_store(app.config)


def get_store(app: Flask | None = None) -> Store:
    return (app or current_app).extensions["ade.store"]


def get_settings(app: Flask | None = None) -> Mapping[str, Any]:
    """The app's settings (``app.config``: read in ``app.config.load_settings``)."""
    return (app or current_app).config


class _LazyExecutor:
    """Wakes the app's executor, creating (and starting) it on first use only."""

    def __init__(self, app: Flask):
        self.app = app

    def submit(self, job_id: str) -> None:
        from app.jobs.executor import get_executor

        get_executor(self.app).submit(job_id)


class _LazyDryRuns:
    """The app's dry-run pool in this process, created (and started) on first use."""

    def __init__(self, app: Flask):
        self.app = app

    def submit(self, task) -> None:
        from app.jobs.executor import get_dry_run_pool

        get_dry_run_pool(self.app).submit(task)

    def wait(self, task, seconds: float) -> bool:
        from app.jobs.executor import get_dry_run_pool

        return get_dry_run_pool(self.app).wait(task, seconds)


def app_context(
    app: Flask,
    session: Session,
    principal: Principal | None = None,
    base_url: str = "",
) -> Context:
    """A service context outside any request (CLI, start-up, tests)."""
    return Context(
        session=session,
        store=get_store(app),
        settings=get_settings(app),
        principal=principal,
        executor=_LazyExecutor(app),
        dry_runs=_LazyDryRuns(app),
        base_url=base_url,
    )


def request_context(principal: Principal | None = None) -> Context:
    """The service context of this request, authenticated with its bearer token
    unless ``principal`` is given (the git endpoint authenticates its own way)."""
    if principal is None:
        from app.auth import current_principal

        principal = current_principal()
    app = current_app._get_current_object()
    base_url = request.host_url.rstrip("/")
    return app_context(app, get_session(), principal, base_url)
