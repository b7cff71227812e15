"""Helpers for the git-over-HTTP tests: a live server, configs, and the git CLI
in an isolated environment (no user or system config, no prompts)."""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from app import create_app, db
from app.services.tokens import create_token
from app.services.workspaces import create_workspace
from app.web import get_store
from repos.repo import ConfigRepo
from repos.types import Author

AUTHOR = Author("setup", "setup@ade.local")


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port, threaded); yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@dataclass
class Site:
    """A live app with workspace ``acme`` (one token per role), an instance-admin
    token and workspace ``other`` (an admin token there): shared by a test module,
    while each test makes its own config."""

    app: object
    base: str
    workspace_id: str
    tokens: dict[str, str]
    admin: str
    outsider: str
    _count: itertools.count = field(default_factory=itertools.count)

    def config(self) -> tuple[str, ConfigRepo]:
        """A new config of ``acme`` made through the API: the path of its
        ``clone_url`` and its repo."""
        slug = f"cfg{next(self._count)}"
        resp = self.app.test_client().post(
            "/api/v1/workspaces/acme/configs",
            json={"slug": slug, "title": slug.title()},
            headers={"Authorization": f"Bearer {self.tokens['admin']}"},
        )
        assert resp.status_code == 201, resp.json
        with self.app.app_context():
            repo = get_store().open(self.workspace_id, resp.json["id"])
        return urlsplit(resp.json["clone_url"]).path, repo

    def url(self, path: str, token: str) -> str:
        return url_with_token(self.base, path, token)


@contextmanager
def running_site(root: Path, **overrides) -> Iterator[Site]:
    """Migrate a SQLite database under ``root``, build the app and serve it."""
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'ade.db'}"
    db.upgrade(url)
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": root / "data",
            "DATABASE_URL": url,
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
            **overrides,
        }
    )
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        ws = create_workspace(session, "acme", "Acme")
        tokens = {
            role: create_token(session, f"{role}-bot", role, ws.id)[1]
            for role in ("viewer", "author", "publisher", "admin")
        }
        admin = create_token(session, "root")[1]
        other = create_workspace(session, "other", "Other")
        outsider = create_token(session, "outsider", "admin", other.id)[1]
        workspace_id = ws.id
        session.close()
    with live_server(app) as base:
        yield Site(app, base, workspace_id, tokens, admin, outsider)


@dataclass
class Git:
    """The real ``git`` client with a private HOME; ``run`` never prompts."""

    home: Path

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_AUTHOR_NAME": "Dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
            "LC_ALL": "C",
        }

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd or self.home,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"git {' '.join(args)} exited {proc.returncode}:\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def output(self, *args: str, cwd: Path) -> str:
        return self.run(*args, cwd=cwd).stdout.strip()


def url_with_token(base: str, path: str, token: str, user: str = "git") -> str:
    """``http://user:token@host:port/<path>`` from a base URL."""
    scheme, rest = base.split("://", 1)
    return f"{scheme}://{user}:{token}@{rest}{path}"
