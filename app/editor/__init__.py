"""The web editor (SPEC §9): server-rendered page shells; the rest runs in the browser.

The pages hold no data and need no session: the browser keeps the pasted API token in
``sessionStorage`` and calls the same ``/api/v1`` as every other client. A strict CSP
keeps the pages to the project's own static files (Monaco is vendored, never a CDN);
Monaco starts its web worker from a ``blob:`` URL and injects ``<style>`` elements.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from runner.manifest import KEY_PATTERN
from runner.scaffold import TEMPLATES

bp = Blueprint(
    "editor",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/editor/static",
)

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "worker-src 'self' blob:",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@bp.after_request
def _security_headers(resp):
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    return resp


@bp.get("/")
def home():
    """The editor's entry point: the workspace list (it asks for a token first)."""
    return redirect(url_for("editor.workspaces"))


@bp.get("/signin")
def signin():
    """Paste an API token; it is kept in this tab's sessionStorage only."""
    return render_template("editor/signin.html", page="signin")


@bp.get("/workspaces")
def workspaces():
    """The workspaces the token can see."""
    return render_template("editor/workspaces.html", page="workspaces")


@bp.get("/workspaces/<ws>/configs")
def configs(ws: str):
    """A workspace's configs, with a form to create one."""
    return render_template("editor/configs.html", page="configs", ws=ws)


@bp.get("/workspaces/<ws>/tokens")
def tokens(ws: str):
    """A workspace's API tokens: list, create (secret shown once), revoke."""
    return render_template("editor/tokens.html", page="tokens", ws=ws)


@bp.get("/workspaces/<ws>/configs/<config_id>/editor")
@bp.get("/workspaces/<ws>/configs/<config_id>/editor/<path:view>")
def editor(ws: str, config_id: str, view: str = ""):
    """The editor of one config's draft. Every view has its own address under
    ``editor/`` (``files/<path>``, ``dry-run``, ``jobs/<id>``, ``history/v1.0.2``);
    the page is the same and the browser picks the view from the URL."""
    return render_template(
        "editor/editor.html",
        page="editor",
        ws=ws,
        config_id=config_id,
        key_pattern=KEY_PATTERN,  # the one column-key rule (runner.manifest)
        templates=TEMPLATES,  # the file templates the API offers (runner.scaffold)
    )
