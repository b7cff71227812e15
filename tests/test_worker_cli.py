"""``ade worker --api URL --token T`` builds no app: no database engine, no data
dir; ``ade token create --worker`` mints the token it needs."""

from __future__ import annotations

from click.testing import CliRunner

import app.commands as ade_commands
import app.db
from app.commands import cli
from tests.conftest import make_app


def _refuse(*_args, **_kwargs):
    raise AssertionError("the stateless worker must not build the app or a DB engine")


def test_stateless_worker_opens_no_database_and_no_data_dir(tmp_path, monkeypatch):
    started = {}

    def start(celery, settings, concurrency, metrics_port, loglevel):
        started.update(celery=celery, settings=settings, concurrency=concurrency)

    monkeypatch.setattr("app.jobs.cli._start", start)
    monkeypatch.setattr(ade_commands, "create_app", _refuse)
    monkeypatch.setattr(app.db, "make_engine", _refuse)
    data_dir = tmp_path / "never"
    env = {
        "ADE_DATA_DIR": str(data_dir),
        "ADE_DATABASE_URL": "postgresql+psycopg://nobody@db.invalid/none",
        "ADE_API_URL": "http://api.invalid:8000/",
        "ADE_WORKER_TOKEN": "ade_secret",
        "ADE_WORKER_CACHE_DIR": str(tmp_path / "cache"),
        "ADE_BROKER_URL": "redis://broker.invalid:6379/0",
    }
    result = CliRunner().invoke(cli, ["worker", "--concurrency", "3"], env=env)
    assert result.exit_code == 0, result.output
    assert not data_dir.exists()
    assert "ade.run_job" in started["celery"].tasks
    assert started["concurrency"] == 3
    assert (tmp_path / "cache" / "configs").is_dir()
    # Without a token, --api is refused before anything starts.
    env.pop("ADE_WORKER_TOKEN")
    result = CliRunner().invoke(cli, ["worker"], env=env)
    assert result.exit_code == 2 and "worker token" in result.output


def test_token_create_worker(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url)
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["token", "create", "--name", "w1", "--worker"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    resp = app.test_client().get(
        "/api/v1/workspaces", headers={"Authorization": f"Bearer {secret}"}
    )
    assert resp.status_code == 403
    result = runner.invoke(
        cli, ["token", "create", "--name", "w2", "--worker", "--role", "viewer"]
    )
    assert result.exit_code == 2


def test_a_failed_claim_is_retried_not_dropped():
    """The wake-up is acked on receipt: a claim that fails (API or database away)
    must come back, or the job would wait in the queue for nobody."""
    from app.jobs.celery_app import worker_celery
    from app.jobs.execute import RunSettings
    from runner.sandbox import Limits

    calls = []

    class FlakyPort:
        def claim(self, job_id):
            calls.append(job_id)
            if len(calls) == 1:
                raise ConnectionRefusedError("the API is restarting")
            return None  # someone else has it by now

    settings = {"BROKER_URL": "memory://", "BROKER_PREFIX": "t"}
    celery = worker_celery(settings, FlakyPort(), RunSettings(Limits(), 1))
    celery.conf.task_always_eager = True
    celery.tasks["ade.run_job"].apply(args=["j1"]).get()
    assert calls == ["j1", "j1"]
