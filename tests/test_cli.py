"""SPEC §10: the ``ade`` console script's commands, and that each honours
``ADE_DATA_DIR`` and ``ADE_DATABASE_URL``."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from app.commands import cli


def _ade(tmp_path, *args: str):
    env = {
        "ADE_DATA_DIR": str(tmp_path / "data"),
        "ADE_DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}",
        "ADE_LOG_FORMAT": "text",
        "ADE_LOG_LEVEL": "WARNING",
        "FLASK_APP": "",
    }
    return CliRunner().invoke(cli, list(args), env=env)


def _tokens(tmp_path) -> list[tuple]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT t.name, t.role, w.slug FROM api_tokens t "
            "LEFT JOIN workspaces w ON w.id = t.workspace_id ORDER BY t.created_at"
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_ade_lists_the_spec_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "serve", "worker", "run", "routes", "repair", "token"):
        assert f"  {command} " in result.output, command


def test_init_and_token_create_print_the_secret_alone(tmp_path):
    first = _ade(tmp_path, "init")
    assert first.exit_code == 0, first.stderr
    assert (tmp_path / "data").is_dir()
    assert (tmp_path / "elsewhere.db").is_file()  # ADE_DATABASE_URL, not the data dir
    assert not (tmp_path / "data" / "ade.db").exists()
    (secret,) = first.stdout.splitlines()
    assert secret.startswith("ade_") and " " not in secret
    again = _ade(tmp_path, "init")
    assert again.exit_code == 0 and again.stdout == ""  # shown once

    admin = _ade(tmp_path, "token", "create", "--name", "ops")
    assert admin.exit_code == 0, admin.stderr
    assert len(admin.stdout.splitlines()) == 1
    assert _tokens(tmp_path)[-1] == ("ops", "admin", None)  # instance admin

    # A workspace, then a workspace token for it.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO workspaces (id, slug, name, created_at) "
            "VALUES ('w1', 'acme', 'Acme', '2026-01-01 00:00:00')"
        )
    engine.dispose()
    viewer = _ade(
        tmp_path, "token", "create", "--name", "ci", "--workspace", "acme",
        "--role", "viewer",
    )  # fmt: skip
    assert viewer.exit_code == 0, viewer.stderr
    assert len(viewer.stdout.splitlines()) == 1
    assert _tokens(tmp_path)[-1] == ("ci", "viewer", "acme")
    missing = _ade(tmp_path, "token", "create", "--name", "x", "--workspace", "nope")
    assert missing.exit_code != 0 and missing.stdout == ""


def test_serve_binds_loopback_unless_told_otherwise():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output
    assert "127.0.0.1" in result.output


def test_a_role_without_a_workspace_is_refused_not_made_admin(tmp_path):
    assert _ade(tmp_path, "init").exit_code == 0
    before = _tokens(tmp_path)
    result = _ade(tmp_path, "token", "create", "--name", "ro", "--role", "viewer")
    assert result.exit_code != 0 and result.stdout == ""
    assert "--workspace" in result.stderr
    assert _tokens(tmp_path) == before  # no instance-admin token minted


def test_every_setting_of_app_config_is_in_the_readme():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    names = set(re.findall(r"ADE_[A-Z_]+", (root / "app/config.py").read_text()))
    readme = (root / "README.md").read_text()
    assert len(names) > 10
    assert sorted(n for n in names if f"`{n}`" not in readme) == []


def test_help_shows_ade_options_only():
    """``ade --help`` is about ade: no Flask app loader, env-file or debug options."""
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for flask_only in ("--app", "--env-file", "--debug", "Flask"):
        assert flask_only not in result.output, flask_only


def test_ade_run_starts_without_the_server_stack():
    """``ade run`` is dispatched before Flask, SQLAlchemy or alembic are imported
    (they were most of a small local run's start-up time)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from app.cli import main\n"
        "try:\n"
        "    main(['run', '--help'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = ('flask', 'sqlalchemy', 'alembic', 'celery', 'gunicorn')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "Usage: ade run" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"
