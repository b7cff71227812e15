"""The route table (``ade routes``) matches the checked-in snapshot, so a route
that appears, disappears or changes methods is a reviewed change."""

from __future__ import annotations

import os
from pathlib import Path

from flask.cli import routes_command

SNAPSHOT = Path(__file__).resolve().parent / "routes.snapshot"
REFRESH = (
    "If the change is intended, refresh the snapshot with\n"
    "  ADE_DATA_DIR=$(mktemp -d) .venv/bin/ade routes > tests/routes.snapshot\n"
    "(or UPDATE_ROUTES_SNAPSHOT=1 .venv/bin/pytest tests/test_routes.py) "
    "and commit it."
)


def render_routes(app) -> str:
    """Exactly what ``ade routes`` prints (Flask's routes command, sorted by
    endpoint)."""
    result = app.test_cli_runner().invoke(routes_command)
    assert result.exit_code == 0, result.output
    return result.output


def _normal(text: str) -> str:
    # Flask pads the last column: trailing blanks are not part of the contract.
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def test_routes_match_the_snapshot(app):
    current = render_routes(app)
    if os.environ.get("UPDATE_ROUTES_SNAPSHOT") == "1":
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.is_file(), f"{SNAPSHOT} is missing. {REFRESH}"
    current, expected = _normal(current), _normal(SNAPSHOT.read_text())
    if current != expected:
        added = sorted(set(current.splitlines()) - set(expected.splitlines()))
        removed = sorted(set(expected.splitlines()) - set(current.splitlines()))
        raise AssertionError(
            "The route table changed.\n"
            + "".join(f"  + {line}\n" for line in added)
            + "".join(f"  - {line}\n" for line in removed)
            + REFRESH
        )


def test_ade_routes_prints_the_api(app):
    out = render_routes(app)
    for rule in (
        "/api/v1/workspaces/<ws>/configs/<config_id>/publish",
        "/api/v1/workspaces/<ws>/configs/<config_id>/revert",
        "/api/v1/workspaces/<ws>/configs/<config_id>/diff",
    ):
        assert rule in out
