"""The ``ade`` console script.

``ade run`` needs only the runner: it is dispatched before anything of Flask,
SQLAlchemy or alembic is imported (a local run of a small workbook would otherwise
spend most of its time importing the server). Every other command is the Flask
group in ``app.commands``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["run"]:
        from runner.cli import run_command

        sys.exit(run_command.main(args[1:], prog_name="ade run"))
    from app.commands import cli

    # FlaskGroup would otherwise look for FLASK_APP; we always build our own app.
    os.environ.pop("FLASK_APP", None)
    sys.exit(cli.main(args, prog_name="ade"))
