"""The /api/v1 blueprints. Each resource module exposes ``bp``; register it here."""

from __future__ import annotations

from importlib import import_module

from flask_smorest import Api

# One line per resource module under app/api/.
MODULES = [
    "app.api.workspaces",
    "app.api.draft",
    "app.api.configs",
    "app.api.versions",
    "app.api.documents",
    "app.api.jobs",
    "app.api.dryrun",
    "app.api.script_api",
    "app.api.me",
    "app.api.worker",
]


def register(api: Api) -> None:
    for name in MODULES:
        api.register_blueprint(import_module(name).bp)
