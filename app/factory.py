"""The Flask app factory: settings, extensions, blueprints, the auth guard."""

from __future__ import annotations

import logging
import stat
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.routing import UnicodeConverter

from app import db, errors, git_http, limits, logs, metrics_view, web
from app.api import register as register_api
from app.config import load_settings
from app.editor import bp as editor_bp
from app.extensions import api

PUBLIC_API_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")
WORKER_API = "/api/v1/worker/"
# The API docs page (Swagger UI, served from our own static files): scripts and
# styles from this origin only, never framed.
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def create_app(overrides: Mapping | None = None) -> Flask:
    """Build the app: defaults, then ``ADE_*`` environment, then ``overrides``."""
    app = Flask(__name__)
    # No 308 to a merged path: it is not part of the API, and for a file path it
    # would name another file ("files//etc" is not "files/etc"); "//" is a 404,
    # or a 400 inside a file path (an empty component).
    app.url_map.merge_slashes = False
    app.url_map.converters["default"] = _Segment
    app.config.update(load_settings())
    app.config.update(
        API_TITLE="ADE config store",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/swagger-ui/",
        JSON_SORT_KEYS=False,
    )
    if overrides:
        app.config.update(overrides)
    # Every request body is bounded; uploads, draft files and git set their own bound.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_BYTES"]
    _make_private_dir(app.config["DATA_DIR"])

    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    logs.init_app(app)
    db.init_app(app)
    web.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]
    register_api(api)
    app.register_blueprint(editor_bp)
    app.register_blueprint(git_http.bp)
    metrics_view.init_app(app)
    _require_token_on_api(app)
    _protect_docs_page(app)

    @app.get("/healthz")
    def healthz():
        """Liveness: the process answers and the database is reachable."""
        with db.get_engine().connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    logging.getLogger(__name__).debug("app created", extra={})
    return app


class _Segment(UnicodeConverter):
    """A path segment without ":": ``/jobs/<job_id>:cancel`` is then the cancel
    rule only, not also ``/jobs/<job_id>`` with the id "x:cancel" (which made
    OPTIONS list GET for it). No id, slug or "draft" has a colon."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **kwargs)
        self.regex = "[^/:]{1,}"  # UnicodeConverter sets its own in __init__


def _make_private_dir(path: Path) -> None:
    """Create the data dir and keep it 0700: it holds every workspace's repos and
    documents and (by default) the database, and config code in the sandbox runs as
    another uid that must reach none of them (a 0755 ``./data`` let a dry-run read
    other workspaces' repos and uploads)."""
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        try:
            path.chmod(0o700)
        except OSError as exc:  # not ours: say so, the operator must fix it
            logging.getLogger(__name__).warning(
                "data dir %s is readable by other users and cannot be made private: %s",
                path,
                exc,
            )


def _protect_docs_page(app: Flask) -> None:
    from flask import request

    @app.after_request
    def _docs_headers(resp):
        if request.path.startswith("/api/v1/docs"):
            resp.headers.setdefault("Content-Security-Policy", DOCS_CSP)
            resp.headers.setdefault("X-Content-Type-Options", "nosniff")
            resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp


def _require_token_on_api(app: Flask) -> None:
    """Belt and braces: no /api/v1 view runs without a valid token, and a worker
    token reaches the worker calls only (403 elsewhere, as for others there)."""
    from flask import request

    from app.auth import current_principal
    from app.services.access import check_surface

    @app.before_request
    def _auth():
        path = request.path
        if path.startswith("/api/v1/") and not path.startswith(PUBLIC_API_PATHS):
            if request.method != "OPTIONS":
                check_surface(current_principal(), path.startswith(WORKER_API))
