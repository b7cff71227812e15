"""A stateless worker's port against a live server: jobs run over HTTP and git with
the caches, and git shows a worker token only the tag of a job it holds."""

from __future__ import annotations

import threading

import pytest

from app import metrics
from app.jobs.execute import RunSettings, run_claimed
from app.jobs.http_port import HttpPort, WorkerSettings
from app.services.jobs import job_limits
from tests.conftest import bearer
from tests.git_http_helpers import Git, live_server
from tests.jobs_helpers import create_config, publish, put_file
from tests.worker_helpers import make_scene

MIB = 1024 * 1024


def _counter(name: str, **labels) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def served(tmp_path, sqlite_url):
    scene = make_scene(tmp_path, sqlite_url)
    with live_server(scene.app) as base:
        yield scene, base


def _port(tmp_path, base, token, name="cache") -> HttpPort:
    return HttpPort(
        WorkerSettings(
            api_url=base,
            token=token,
            worker_name="test:1",
            cache_dir=tmp_path / name,
            config_cache_bytes=64 * MIB,
            document_cache_bytes=64 * MIB,
        )
    )


def test_jobs_run_over_http_and_the_second_fetches_nothing(served, tmp_path):
    scene, base = served
    port = _port(tmp_path, base, scene.worker)
    run = RunSettings(job_limits(scene.app.config), heartbeat_seconds=1)
    metrics.m()
    fetches = _counter("ade_worker_git_fetches_total")
    hits = _counter("ade_worker_cache_requests_total", cache="config", result="hit")
    doc_hits = _counter(
        "ade_worker_cache_requests_total", cache="document", result="hit"
    )
    outcomes = []
    for n in range(2):
        job = scene.submit(n=n)
        lease = port.claim(job["id"])
        assert lease is not None and port.claim(job["id"]) is None
        outcomes.append(run_claimed(port, lease, run))
        row = scene.client.get(
            f"/api/v1/workspaces/acme/jobs/{job['id']}", headers=bearer(scene.admin)
        ).json
        assert row["status"] == "succeeded", row
        assert row["metrics"]["rows_processed"] == 6
        out = scene.client.get(
            f"/api/v1/workspaces/acme/jobs/{job['id']}/output",
            headers=bearer(scene.admin),
        )
        assert out.status_code == 200 and out.data[:2] == b"PK"
        if n == 0:
            assert _counter("ade_worker_git_fetches_total") == fetches + 1
    assert [o.status for o in outcomes] == ["succeeded", "succeeded"]
    # The second job of the version: no git fetch, both caches hit.
    assert _counter("ade_worker_git_fetches_total") == fetches + 1
    assert (
        _counter("ade_worker_cache_requests_total", cache="config", result="hit")
        == hits + 1
    )
    assert (
        _counter("ade_worker_cache_requests_total", cache="document", result="hit")
        == doc_hits + 1
    )
    assert port.configs.keys() == [scene.version["files_hash"]]
    assert port.documents.keys() == [scene.doc["sha256"]]


def test_git_shows_a_worker_only_the_tag_of_its_running_job(served, tmp_path):
    scene, base = served
    put_file(
        scene.client,
        "acme",
        scene.config["id"],
        scene.admin,
        "columns/email.py",
        "def detect_x(*, header, **_):\n    return 0\n",
    )
    newer = publish(scene.client, "acme", scene.config["id"], scene.admin, "1.1.0")
    put_file(
        scene.client,
        "acme",
        scene.config["id"],
        scene.admin,
        "columns/email.py",
        "def detect_y(*, header, **_):\n    return 0\n",
    )
    draft_sha = scene.client.get(
        f"/api/v1/workspaces/acme/configs/{scene.config['id']}",
        headers=bearer(scene.admin),
    ).json["draft"]["commit"]
    other_config = create_config(scene.client, "acme", scene.admin, slug="other")
    publish(scene.client, "acme", other_config["id"], scene.admin, "1.0.0")
    git = Git(tmp_path / "home")
    header = f"http.extraHeader=Authorization: Bearer {scene.worker}"
    url = f"{base}/git/acme/roster.git"

    def ls_remote(target=url):
        return git.run("-c", header, "ls-remote", target, check=False)

    # No job claimed: nothing to see.
    assert ls_remote().returncode != 0
    job = scene.submit()
    claimed = scene.claim(job["id"]).json
    listed = ls_remote()
    assert listed.returncode == 0, listed.stderr
    refs = [line.split("\t")[1] for line in listed.stdout.splitlines()]
    assert refs == ["refs/tags/v1.0.0", "refs/tags/v1.0.0^{}"]
    repo = tmp_path / "r.git"
    git.run("init", "--bare", "-q", str(repo))
    ok = git.run(
        "-C",
        str(repo),
        "-c",
        header,
        "fetch",
        "--depth=1",
        url,
        "+refs/tags/v1.0.0:refs/tags/v1.0.0",
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    for refspec in (
        "refs/tags/v1.1.0",
        "refs/heads/draft",
        "refs/heads/main",
        draft_sha,
        newer["commit"],
    ):
        denied = git.run(
            "-C", str(repo), "-c", header, "fetch", url, refspec, check=False
        )
        assert denied.returncode != 0, refspec
    assert ls_remote(f"{base}/git/acme/other.git").returncode != 0
    pushed = git.run(
        "-C",
        str(repo),
        "-c",
        header,
        "push",
        url,
        "refs/tags/v1.0.0:refs/heads/x",
        check=False,
    )
    assert pushed.returncode != 0 and "403" in pushed.stderr
    # Finished: the tag is hidden again.
    scene.call(
        "POST",
        f"/jobs/{job['id']}:finish",
        data={"claim_id": claimed["claim_id"], "result": '{"status": "failed"}'},
        content_type="multipart/form-data",
    )
    assert ls_remote().returncode != 0


def test_concurrent_runs_of_one_version_fetch_it_once(served, tmp_path):
    scene, base = served
    port = _port(tmp_path, base, scene.worker)
    metrics.m()
    fetches = _counter("ade_worker_git_fetches_total")
    leases = [port.claim(scene.submit(n=n)["id"]) for n in range(3)]
    results, workdirs = [], []

    def prepare(lease):
        workdir = tmp_path / f"w{lease.job_id}"
        workdir.mkdir()
        results.append(port.prepare(lease, workdir))

    threads = [threading.Thread(target=prepare, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and len({r.config_dir for r in results}) == 1
    assert _counter("ade_worker_git_fetches_total") == fetches + 1
    assert (results[0].config_dir / "manifest.json").is_file()
    del workdirs
