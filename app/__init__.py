"""The ADE config store: the Flask app (``create_app``), its API, services and jobs.

Importing the package is cheap on purpose: ``ade run`` (``app.cli``) must start
without Flask, SQLAlchemy or alembic, so the factory is imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: Mapping | None = None) -> Flask:
    """Build the app: defaults, then ``ADE_*`` environment, then ``overrides``."""
    from app.factory import create_app as factory

    return factory(overrides)
