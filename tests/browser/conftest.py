"""Browser tests: the real app served by werkzeug on 127.0.0.1 (port 0, a thread),
driven by Playwright through Debian's chromium (never ``playwright install``).

One server, one database and one browser for this package (starting chromium and
migrating cost seconds); every test gets its own browser context and its own config.
A failing test leaves a screenshot in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from app import db
from app.services.tokens import create_token
from tests.conftest import IN_CI, bearer, make_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
TOKEN_KEY = "ade.token"


def _missing(what: str):
    if IN_CI:
        pytest.fail(f"{what} (run `make setup-js setup-browser`)")
    pytest.skip(what)


@pytest.fixture(scope="package")
def vendored_static():
    """Monaco must be vendored into the app's static dir (``make setup-js``)."""
    loader = ROOT / "app" / "editor" / "static" / "vs" / "loader.js"
    script = ROOT / "scripts" / "vendor-static.sh"
    if not loader.exists() and (ROOT / "node_modules" / "monaco-editor").is_dir():
        subprocess.run([str(script)], check=True, cwd=ROOT)
    if not loader.exists():
        _missing("Monaco is not vendored: app/editor/static/vs/loader.js is missing")
    return loader.parent


@pytest.fixture(scope="package")
def live_app(tmp_path_factory, vendored_static):
    """The app on a temp data dir and SQLite, with an instance-admin token."""
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'ade.db'}"
    db.upgrade(url)
    app = make_app(tmp, url)
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        _token, secret = create_token(session, "admin")
        session.close()
    app.config["TEST_ADMIN_TOKEN"] = secret
    return app


def serve(app):
    """Serve ``app`` on 127.0.0.1:<free port> in a thread: (base URL, stop)."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()

    def stop():
        srv.shutdown()
        thread.join(timeout=5)
        executor = app.extensions.get("ade.executor")
        if executor is not None:  # the local job executor's threads
            executor.stop()

    return f"http://127.0.0.1:{srv.server_port}", stop


@pytest.fixture(scope="package")
def server(live_app):
    """Serve the app on 127.0.0.1:<free port> in a thread; yields the base URL."""
    url, stop = serve(live_app)
    yield url
    stop()


@pytest.fixture(scope="package")
def api(live_app):
    """A test client for setting the scene through the API."""
    return live_app.test_client()


@pytest.fixture(scope="package")
def admin_secret(live_app):
    return live_app.config["TEST_ADMIN_TOKEN"]


@pytest.fixture(scope="package")
def ws(api, admin_secret):
    """Workspace ``acme`` with an author and a publisher token."""
    resp = api.post(
        "/api/v1/workspaces",
        json={"slug": "acme", "name": "Acme"},
        headers=bearer(admin_secret),
    )
    assert resp.status_code == 201, resp.json
    tokens = {}
    for role in ("author", "publisher"):
        r = api.post(
            "/api/v1/workspaces/acme/tokens",
            json={"name": f"{role}-bot", "role": role},
            headers=bearer(admin_secret),
        )
        assert r.status_code == 201, r.json
        tokens[role] = r.json["secret"]
    return {"slug": "acme", "tokens": tokens}


_counter = iter(range(1, 10_000))


@pytest.fixture
def config(api, ws, admin_secret):
    """A fresh config (the scaffold) in ``acme``: ``{"id", "slug", "editor"}``."""
    slug = f"roster-{next(_counter)}"
    resp = api.post(
        "/api/v1/workspaces/acme/configs",
        json={"slug": slug, "title": f"Roster {slug}"},
        headers=bearer(admin_secret),
    )
    assert resp.status_code == 201, resp.json
    cid = resp.json["id"]
    return {"id": cid, "slug": slug, "editor": f"/workspaces/acme/configs/{cid}/editor"}


def _chromium() -> str:
    for path in CHROMIUM:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found:
        return found
    _missing("Debian's chromium is not installed")


class _Chromium:
    """One chromium for the package, launched again if it died: a browser crash
    fails the test it happened in, not every test after it."""

    def __init__(self, pw, executable: str) -> None:
        self.pw, self.executable = pw, executable
        self.current = None

    def get(self):
        if self.current is None or not self.current.is_connected():
            self.current = self.pw.chromium.launch(
                executable_path=self.executable, headless=True, args=CHROMIUM_ARGS
            )
        return self.current


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as pw:
        chromium = _Chromium(pw, executable)
        yield chromium
        if chromium.current is not None and chromium.current.is_connected():
            chromium.current.close()


def _guard_network(context, base_url: str) -> list[str]:
    """Abort every request that leaves 127.0.0.1; return the list of those."""
    blocked: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "blob:", "data:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)
    return blocked


def _console_error(page, msg) -> None:
    # An HTTP error answer (401, 409, 412) is logged by Chrome too; those are the
    # API's expected answers in these tests, so only other errors count.
    if msg.type == "error" and "Failed to load resource" not in msg.text:
        page.errors.append(msg.text)


@pytest.fixture
def new_page(browser, server, request):
    """Factory of pages, each in its own context (its own sessionStorage).

    ``new_page(token=...)`` starts signed in by seeding the tab's sessionStorage.
    """
    contexts = []

    def make(token: str | None = None, viewport=None, base_url: str | None = None):
        base = base_url or server
        context = browser.get().new_context(
            viewport=viewport or VIEWPORT, base_url=base, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        blocked = _guard_network(context, base)
        if token:
            context.add_init_script(
                f"window.sessionStorage.setItem({TOKEN_KEY!r}, {token!r});"
            )
        page = context.new_page()
        page.errors = []  # uncaught errors and console errors (CSP), checked by tests
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("console", lambda msg: _console_error(page, msg))
        page.blocked = blocked
        contexts.append((context, page))
        return page

    yield make
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for i, (_ctx, page) in enumerate(contexts):
            name = f"{request.node.name}-{i}.png".replace("/", "_")
            try:
                page.screenshot(path=str(ARTIFACTS / name), full_page=True)
            except Exception:  # noqa: BLE001 - a dead page must not hide the failure
                pass
    for context, _page in contexts:
        try:
            context.close()
        except PlaywrightError as exc:
            if "closed" not in str(exc):
                raise
            # chromium died after the test's last step (it is launched again for
            # the next test); its contexts went with it: nothing left to close.
            pass


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
