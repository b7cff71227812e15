"""Job throughput: stateless workers (HTTP + git) against shared-disk Celery workers,
measured in one run on this machine.

One ``ade serve`` (Celery backend, PostgreSQL, Redis on 127.0.0.1); for each layout
and worker count (1, 2, 4 worker processes of concurrency 1) it starts the workers,
lets one warm-up job per worker through, then submits N small jobs (the scaffold
config on a 6-row roster, distinct flags so none is reused) and times submit → last
finished. It prints jobs/s per layout and count, and the per-job overhead of the
HTTP path: the mean claim → finish time of a job against the shared-disk layout's
with one worker, and what the stateless workers' own metrics say their API calls
(claim, heartbeat, document, git fetch, finish) took per job.

    .venv/bin/python bench/jobs.py [--jobs 100] [--workers 1,2,4]

Needs PostgreSQL (ADE_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1/
postgres) and Redis (ADE_TEST_REDIS_URL, default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from app.jobs.api_client import ApiClient, ApiError  # noqa: E402

ADE = str(Path(sys.executable).with_name("ade"))
PG = os.environ.get(
    "ADE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("ADE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def roster() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["Member #", "Name", "E-mail", "Joined"])
    for i in range(6):
        ws.append([1000 + i, f"P {i}", f"p{i}@example.org", 2020])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class Bench:
    def __init__(self, root: Path):
        self.root = root
        self.db = f"ade_bench_{uuid.uuid4().hex[:8]}"
        self.url = PG.rsplit("/", 1)[0] + "/" + self.db
        self.prefix = f"ade-bench-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ADE_")},
            "ADE_DATA_DIR": str(root / "data"),
            "ADE_DATABASE_URL": self.url,
            "ADE_JOB_BACKEND": "celery",
            "ADE_BROKER_URL": REDIS,
            "ADE_BROKER_PREFIX": self.prefix,
            "ADE_LOG_FORMAT": "text",
            "ADE_LOG_LEVEL": "WARNING",
            "ADE_RATE_LIMIT_JOBS": "",  # the bench submits faster than a person
        }
        self.engine = sa.create_engine(self.url)

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def setup(self) -> None:
        admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.db}"')
        admin.dispose()
        out = subprocess.run(
            [ADE, "init"], env=self.env, capture_output=True, text=True, check=True
        )
        self.admin = out.stdout.strip().splitlines()[-1]
        self.worker_token = subprocess.run(
            [ADE, "token", "create", "--name", "fleet", "--worker"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.start(
            "api", [ADE, "serve", "--port", str(port), "--workers", "2"], self.env
        )
        self.api = ApiClient(self.base, self.admin)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                self.api.json("GET", "/healthz")
                break
            except (OSError, ApiError):
                time.sleep(0.2)
        self.api.json("POST", "/api/v1/workspaces", {"slug": "b", "name": "B"})
        cfg = self.api.json(
            "POST", "/api/v1/workspaces/b/configs", {"slug": "c", "title": "C"}
        )
        self.version = self.api.json(
            "POST",
            f"/api/v1/workspaces/b/configs/{cfg['id']}/publish",
            {"semver": "1.0.0", "message": "bench"},
        )["id"]
        path = self.root / "roster.xlsx"
        path.write_bytes(roster())
        self.doc = self.api.multipart(
            "/api/v1/workspaces/b/documents", {}, {"file": path}
        )["id"]

    def workers(self, layout: str, n: int) -> list[tuple[subprocess.Popen, int]]:
        started = []
        for i in range(n):
            port = free_port()
            if layout == "shared-disk":
                argv, env = (
                    [
                        ADE,
                        "worker",
                        "--concurrency",
                        "1",
                        "--metrics-port",
                        str(port),
                        "--loglevel",
                        "WARNING",
                    ],
                    self.env,
                )
            else:
                env = {
                    k: v
                    for k, v in self.env.items()
                    if k not in ("ADE_DATABASE_URL", "ADE_DATA_DIR")
                }
                env.update(
                    ADE_WORKER_TOKEN=self.worker_token,
                    ADE_WORKER_CACHE_DIR=str(self.root / f"cache-{layout}-{n}-{i}"),
                )
                argv = [
                    ADE,
                    "worker",
                    "--api",
                    self.base,
                    "--concurrency",
                    "1",
                    "--metrics-port",
                    str(port),
                    "--loglevel",
                    "WARNING",
                ]
            started.append((self.start(f"{layout}-{n}-{i}", argv, env), port))
        return started

    def run_jobs(self, count: int, tag: str) -> tuple[float, list[str]]:
        started = time.monotonic()
        ids = [
            self.api.json(
                "POST",
                "/api/v1/workspaces/b/jobs",
                {
                    "config_version_id": self.version,
                    "input_document_id": self.doc,
                    "flags": {"bench": tag, "n": i},
                },
            )["id"]
            for i in range(count)
        ]
        while True:
            with self.engine.connect() as conn:
                left = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM jobs WHERE id = ANY(:ids) AND "
                        "status IN ('queued','running')"
                    ),
                    {"ids": ids},
                ).scalar()
            if not left:
                return time.monotonic() - started, ids
            time.sleep(0.1)

    def job_seconds(self, ids: list[str]) -> tuple[float, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT status, EXTRACT(EPOCH FROM finished_at - started_at) "
                    "FROM jobs WHERE id = ANY(:ids)"
                ),
                {"ids": ids},
            ).all()
        failed = sum(1 for status, _ in rows if status != "succeeded")
        return statistics.mean(float(s) for _, s in rows), failed

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.engine.dispose()
        admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        admin.dispose()
        import redis

        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{self.prefix}*"):
            client.delete(key)


def api_seconds(port: int) -> float:
    """Seconds a worker spent in the API calls that lie on a job's path (claim,
    document, git fetch, finish); heartbeats run beside the sandbox, not before
    or after it, so they are left out."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    total = 0.0
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if (
                sample.name == "ade_worker_api_seconds_sum"
                and sample.labels.get("call") != "heartbeat"
            ):
                total += sample.value
    return total


def stop(workers) -> None:
    for proc, _port in workers:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc, _port in workers:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    root = Path(tempfile.mkdtemp(prefix="ade-bench-jobs-"))
    bench = Bench(root)
    results = {}
    try:
        bench.setup()
        for n in counts:
            for layout in ("shared-disk", "stateless"):
                workers = bench.workers(layout, n)
                bench.run_jobs(n, f"warm-{layout}-{n}")  # workers up, caches primed
                before = sum(api_seconds(port) for _p, port in workers)
                elapsed, ids = bench.run_jobs(args.jobs, f"{layout}-{n}")
                calls = sum(api_seconds(port) for _p, port in workers) - before
                mean, failed = bench.job_seconds(ids)
                results[(layout, n)] = (
                    args.jobs / elapsed,
                    mean,
                    calls / args.jobs,
                    failed,
                )
                stop(workers)
                print(
                    f"{layout:11} x{n}: {args.jobs / elapsed:6.2f} jobs/s, "
                    f"{mean:.3f} s per job (claim→finish), {failed} failed",
                    flush=True,
                )
    finally:
        bench.close()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"\n{args.jobs} jobs per run, {os.cpu_count()} CPUs; worker processes of "
        "concurrency 1"
    )
    print("workers  shared-disk jobs/s  stateless jobs/s  stateless/shared")
    for n in counts:
        shared, stateless = results[("shared-disk", n)], results[("stateless", n)]
        print(
            f"{n:7}  {shared[0]:18.2f}  {stateless[0]:16.2f}  "
            f"{stateless[0] / shared[0]:16.2f}"
        )
    one_shared, one_stateless = results[("shared-disk", 1)], results[("stateless", 1)]
    print(
        f"\nper-job overhead of the HTTP path (1 worker): "
        f"{(one_stateless[1] - one_shared[1]) * 1000:+.0f} ms claim→finish "
        f"({one_shared[1]:.3f} s shared-disk, {one_stateless[1]:.3f} s stateless); "
        f"the worker's API calls took {one_stateless[2] * 1000:.0f} ms per job"
    )


if __name__ == "__main__":
    main()
