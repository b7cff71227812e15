"""SPEC §6: where the sandbox cannot isolate (no root, no namespaces) the service
says so once at start-up — ``ade serve`` and ``ade worker`` alike, since Celery
workers run the sandboxes on their own machines."""

from __future__ import annotations

import logging

import pytest

import app.server as server

LIMITS_ONLY = {"mode": "limits-only", "reason": "not running as root"}
ISOLATED = {"mode": "isolated", "reason": None}


@pytest.mark.parametrize("caps, level, words", [
    (LIMITS_ONLY, logging.WARNING, "resource limits only: not running as root"),
    (ISOLATED, logging.INFO, "no network"),
])  # fmt: skip
def test_serve_start_up_says_how_config_code_is_isolated(
    app, monkeypatch, caplog, caps, level, words
):
    monkeypatch.setattr(server, "sandbox_capabilities", lambda: caps)
    with caplog.at_level(logging.INFO, logger="app.server"):
        server.prepare(app)
    notes = [r for r in caplog.records if "sandbox" in r.getMessage()]
    assert [(r.levelno, words in r.getMessage()) for r in notes] == [(level, True)]


def test_worker_start_up_says_it_too(app, monkeypatch, caplog):
    import app.jobs.celery_app as celery_app
    from app.jobs.cli import worker_command

    started = []

    class FakeCelery:
        def worker_main(self, argv):
            started.append(argv)

    monkeypatch.setattr(server, "sandbox_capabilities", lambda: LIMITS_ONLY)
    monkeypatch.setattr(celery_app, "shared_disk_celery", lambda _app: FakeCelery())
    with caplog.at_level(logging.INFO, logger="app.server"):
        result = app.test_cli_runner().invoke(worker_command, [])
    assert result.exit_code == 0, result.output
    assert started
    notes = [r for r in caplog.records if "sandbox" in r.getMessage()]
    assert [r.levelno for r in notes] == [logging.WARNING]
