"""Access to the git store for the current app: the Store, a config's repo, authors."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import or_, select

from app.auth import Principal
from app.db import get_session
from app.errors import NotFound
from app.models import Config, Workspace
from repos.repo import ConfigRepo
from repos.store import Store
from repos.types import Author


def get_store() -> Store:
    """The app's Store (one per app; cheap to keep, it holds no open repos)."""
    store = current_app.extensions.get("ade.store")
    if store is None:
        cfg = current_app.config
        store = Store(
            cfg["DATA_DIR"] / "repos",
            max_file_bytes=cfg["MAX_FILE_BYTES"],
            max_files=cfg["MAX_FILES"],
        )
        current_app.extensions["ade.store"] = store
    return store


def get_config(workspace: Workspace, ref: str) -> Config:
    """A config of this workspace by id or slug; 404 otherwise."""
    config = get_session().scalar(
        select(Config).where(
            Config.workspace_id == workspace.id,
            or_(Config.id == ref, Config.slug == ref),
        )
    )
    if config is None:
        raise NotFound(f"Config {ref!r} not found.")
    return config


def open_repo(config: Config) -> ConfigRepo:
    return get_store().open(config.workspace_id, config.id)


def author_for(principal: Principal) -> Author:
    """Commit author for a token: its name at the configured e-mail domain."""
    local = "".join(c if c.isalnum() or c in "._-" else "-" for c in principal.name)
    domain = current_app.config["GIT_EMAIL_DOMAIN"]
    return Author(name=principal.name, email=f"{local or 'token'}@{domain}")
