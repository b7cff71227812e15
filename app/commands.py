"""The ``ade`` command group: init, serve, worker, run, routes, repair, token,
script-api."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, with_appcontext

from app import create_app, db
from app.jobs.cli import worker_command
from runner.cli import run_command


def _create_app(*_args, **_kwargs):
    return create_app()


class _AdeGroup(FlaskGroup):
    """FlaskGroup without Flask's own options (``--app``, ``--env-file``,
    ``--debug``, ``--version``): ade always builds its own app from ``ADE_*``."""

    def __init__(self, **kwargs):
        super().__init__(add_version_option=False, **kwargs)
        self.params = [
            p for p in self.params if p.name not in ("app", "env_file", "debug")
        ]

    def _load_plugin_commands(self) -> None:
        """No ``flask.commands`` entry points of installed packages (Flask-Limiter
        registers a ``limiter`` group): ade's commands are the ones below."""


@click.group(cls=_AdeGroup, create_app=_create_app, add_default_commands=False)
def cli():
    """ADE config store. Settings come from ADE_* environment variables (README)."""


cli.add_command(routes_command, "routes")
cli.add_command(run_command, "run")
cli.add_command(worker_command, "worker")


@cli.command("repair")
@with_appcontext
def repair_command() -> None:
    """Make the SQL version index match the git refs; print what changed."""
    from app.services.repair import reconcile_all

    changes = reconcile_all(current_app.config)
    for line in changes:
        click.echo(line)
    if not changes:
        click.echo("The index matches the refs; nothing to repair.", err=True)


@cli.command("script-api")
@click.option("--json", "as_json", is_flag=True, help="The JSON the API serves.")
def script_api_command(as_json: bool) -> None:
    """Print the script API description (Markdown: docs/script-api.md)."""
    import json

    from runner import script_api

    if as_json:
        click.echo(json.dumps(script_api.describe(), indent=2))
    else:
        click.echo(script_api.markdown(), nl=False)


def _session():
    return current_app.extensions["ade.sessionmaker"]()


@cli.command("init")
@with_appcontext
def init_command():
    """Create the data dir, migrate the database, print an instance-admin token once."""
    from sqlalchemy import select

    from app.models import ApiToken
    from app.services.tokens import create_token

    data_dir = current_app.config["DATA_DIR"]
    data_dir.mkdir(parents=True, exist_ok=True)
    db.upgrade(current_app.config["DATABASE_URL"])
    click.echo(f"Data dir: {data_dir}", err=True)
    with _session() as session:
        exists = session.scalar(
            select(ApiToken.id).where(
                ApiToken.workspace_id.is_(None), ApiToken.revoked_at.is_(None)
            )
        )
        if exists:
            click.echo(
                "An instance-admin token already exists; create another with "
                "'ade token create --name NAME'.",
                err=True,
            )
            return
        _token, secret = create_token(session, "admin")
    click.echo("Instance-admin token (shown once, keep it safe):", err=True)
    click.echo(secret)


@cli.group("token")
def token_group():
    """Manage API tokens."""


@token_group.command("create")
@click.option("--name", required=True)
@click.option(
    "--workspace", "workspace_ref", default=None, help="Workspace id or slug."
)
@click.option(
    "--role",
    type=click.Choice(["viewer", "author", "publisher", "admin"]),
    default=None,
    help="Role in --workspace (default admin).",
)
@click.option(
    "--worker",
    is_flag=True,
    help="A worker token: only the worker calls of stateless job workers.",
)
@with_appcontext
def token_create(name, workspace_ref, role, worker):
    """Create a token and print its secret alone on stdout.

    Without --workspace it is an instance-admin token; a --role then would be
    silently ignored (the token would be an admin), so it is refused. --worker
    makes an instance-wide worker token (for ``ade worker --api``).
    """
    from app.services.access import find_workspace
    from app.services.tokens import create_token

    if worker:
        if workspace_ref or role:
            raise click.UsageError("--worker takes neither --workspace nor --role")
        with _session() as session:
            _token, secret = create_token(session, name, "worker")
        click.echo(secret)
        return
    if workspace_ref is None and role not in (None, "admin"):
        raise click.UsageError(
            "--role needs --workspace (without it the token is an instance admin)"
        )

    with _session() as session:
        workspace_id = None
        if workspace_ref:
            workspace = find_workspace(session, workspace_ref)
            if workspace is None:
                raise click.ClickException(f"workspace {workspace_ref!r} not found")
            workspace_id = workspace.id
        _token, secret = create_token(session, name, role or "admin", workspace_id)
    click.echo(secret)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@with_appcontext
def serve_command(host, port, workers, threads):
    """Serve the app with gunicorn (migrates and repairs the index first)."""
    from app.server import serve

    serve(current_app._get_current_object(), host, port, workers, threads)
