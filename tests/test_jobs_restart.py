"""A job queued while no server ran is picked up when `ade serve` starts."""

from app.models import Job
from app.services import jobs as job_service
from tests.conftest import bearer, make_app
from tests.jobs_helpers import create_config, publish, roster_xlsx, upload
from tests.serve_helpers import Server, ade_env, ade_init
from tests.waits import wait_for


def test_queued_job_runs_after_a_restart_without_a_new_submit(tmp_path):
    data_dir = tmp_path / "data"
    env = ade_env(data_dir)
    admin = ade_init(env)
    # Set up and queue the job in-process, as a server that died after the INSERT would.
    app = make_app(tmp_path, f"sqlite:///{data_dir / 'ade.db'}")
    client = app.test_client()
    client.post(
        "/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=bearer(admin)
    )
    cfg = create_config(client, "w", admin)
    version = publish(client, "w", cfg["id"], admin)
    doc = upload(client, "w", admin, roster_xlsx()).json
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        from app.services.access import find_workspace
        from app.services.context import Context
        from app.web import get_store

        # No executor to wake: nothing in this process will run the job.
        ctx = Context(session=session, store=get_store(), settings=app.config)
        job, reused = job_service.submit(
            ctx, find_workspace(session, "w"), version["id"], doc["id"], {}
        )
        job_id = job.id
        session.close()
    assert not reused and "ade.executor" not in app.extensions

    server = Server(env, tmp_path / "serve.log")
    server.start()
    try:

        def status() -> str:
            session = app.extensions["ade.sessionmaker"]()
            try:
                return session.get(Job, job_id).status
            finally:
                session.close()

        final = wait_for(
            lambda: (s := status()) in ("succeeded", "failed") and s,
            120,
            0.2,
            what="the queued job to finish after the restart",
            last=lambda: (status(), (tmp_path / "serve.log").read_text()[-2000:]),
        )
        assert final == "succeeded", (tmp_path / "serve.log").read_text()[-2000:]
    finally:
        server.kill()
