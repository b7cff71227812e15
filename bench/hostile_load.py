"""Hostile dry runs against a calm neighbour (issue 12's load test): this checkout
(dry runs on their own pool, limited per token and workspace) against a baseline
commit (default 433dd90: dry runs on the request thread), both measured in one run.

Each target is ``ade serve`` (2 workers x 4 threads; rate limits off, so the
executor's limits are what is measured) on its own data dir. For ``--seconds``:

* one author token of workspace ``hostile`` keeps 20 dry runs going at once (20
  client threads, each: POST a dry run of one of four hostile configs -- sleep,
  memory flood, message flood, FIFO output -- and follow a 202 to its end; a 429
  waits its Retry-After);
* a client of workspace ``calm`` (2 threads) saves a draft file (GET + PUT with
  If-Match) in a loop and submits a job every fifth save; its jobs are waited for
  at the end;
* ``/healthz`` is probed every 0.25 s; the RSS of the gunicorn master and workers is
  summed from /proc every 0.25 s, and separately that of everything below the
  workers (the sandboxes, under their own uids, and their launchers).

Prints, side by side: the calm client's p50/p95/p99/max latency and errors, its
jobs (succeeded/submitted), the hostile author's answers (200/202/429/other) and
how its runs ended, /healthz p50/max and failures, and the peak RSS of the service
and of the sandboxes; then the issue's targets (calm p99 < 1 s, every job
succeeded, service RSS < 1 GB) for this checkout. Bounded in time and count;
127.0.0.1 only.

    .venv/bin/python bench/hostile_load.py [--seconds 40] [--baseline 433dd90]
        [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from load_kit import (  # noqa: E402
    Client,
    Server,
    StepResult,
    add_worktree,
    percentile,
    remove_worktree,
)

from app.jobs.api_client import ApiClient  # noqa: E402
from tests.dryrun_helpers import HOSTILE  # noqa: E402
from tests.jobs_helpers import roster_xlsx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_CLIENTS, CALM_CLIENTS = 20, 2
MAX_HOSTILE_POSTS, MAX_CALM_OPS = 2000, 2000
WALL = 10  # ADE_DRY_RUN_WALL_SECONDS of both targets
ENV = {
    "ADE_DRY_RUN_WALL_SECONDS": str(WALL),
    "ADE_SANDBOX_MEMORY_MB": "1024",
    **{f"ADE_RATE_LIMIT_{k}": "" for k in ("DRY_RUN", "UPLOAD", "JOBS", "PUBLISH")},
}


class Target:
    """One served checkout, seeded with the two workspaces."""

    def __init__(self, name: str, checkout: Path, run_dir: Path):
        self.server = Server(name, checkout, run_dir, workers=2)
        self.server.env.update(ENV)
        admin = self.server.init()
        self.server.start(threads=4)
        api = ApiClient(self.server.base, admin)
        self.tokens, self.configs = {}, {}
        for slug, role in (("hostile", "author"), ("calm", "publisher")):
            api.json("POST", "/api/v1/workspaces", {"slug": slug, "name": slug})
            token = api.json(
                "POST",
                f"/api/v1/workspaces/{slug}/tokens",
                {"name": slug, "role": role},
            )
            self.tokens[slug] = token["secret"]
        author = ApiClient(self.server.base, self.tokens["hostile"])
        for kind, code in HOSTILE.items():
            cfg = author.json(
                "POST",
                "/api/v1/workspaces/hostile/configs",
                {"slug": kind, "title": kind},
            )
            path = f"/api/v1/workspaces/hostile/configs/{cfg['id']}/draft/files/run.py"
            status, body, _h, _s = Client(
                self.server.base, self.tokens["hostile"]
            ).call("PUT", path, {"code": code}, {"If-Match": "*"})
            assert status == 200, (status, body)
            self.configs[kind] = cfg["id"]
        calm = ApiClient(self.server.base, self.tokens["calm"])
        cfg = calm.json(
            "POST", "/api/v1/workspaces/calm/configs", {"slug": "c", "title": "C"}
        )
        self.calm_config = cfg["id"]
        self.version = calm.json(
            "POST",
            f"/api/v1/workspaces/calm/configs/{cfg['id']}/publish",
            {"semver": "1.0.0", "message": "bench"},
        )["id"]
        doc_path = run_dir / f"roster-{name}.xlsx"
        doc_path.write_bytes(roster_xlsx())
        self.docs = {
            slug: ApiClient(self.server.base, self.tokens[slug]).multipart(
                f"/api/v1/workspaces/{slug}/documents", {}, {"file": doc_path}
            )["id"]
            for slug in ("hostile", "calm")
        }


class Sampler(threading.Thread):
    """Peak RSS (bytes) of the gunicorn master + workers, and of every process
    below the workers (sandboxes and their launchers), every 0.25 s."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server, self.stop = server, threading.Event()
        self.service = self.sandboxes = 0

    def run(self) -> None:
        while not self.stop.wait(0.25):
            procs = _procs()
            master = self.server.proc.pid
            workers = {p for p, (ppid, _rss) in procs.items() if ppid == master}
            below, frontier = set(), set(workers)
            while frontier:
                frontier = {p for p, (ppid, _r) in procs.items() if ppid in frontier}
                below |= frontier
            service = sum(procs[p][1] for p in {master, *workers} if p in procs)
            sandboxes = sum(procs[p][1] for p in below)
            self.service = max(self.service, service)
            self.sandboxes = max(self.sandboxes, sandboxes)


def _procs() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, RSS bytes) of every live process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            text = Path(f"/proc/{name}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        out[int(name)] = (int(fields["PPid"]), rss)
    return out


def hostile(target: Target, deadline: float, counts: Counter, lock) -> None:
    """20 threads, each keeping one hostile dry run going."""
    base, token = target.server.base, target.tokens["hostile"]
    kinds = list(HOSTILE)

    def body(i: int) -> None:
        client = Client(base, token)
        url = f"/api/v1/workspaces/hostile/configs/{target.configs[kinds[i % 4]]}"
        while time.monotonic() < deadline and counts["posts"] < MAX_HOSTILE_POSTS:
            status, run, headers, _s = client.call(
                "POST", f"{url}/draft:dry-run", {"documentId": target.docs["hostile"]}
            )
            with lock:
                counts["posts"] += 1
                counts[f"answer {status}"] += 1
            if status == 429:
                time.sleep(min(float(headers.get("Retry-After", 1)), 5))
                continue
            while status == 202 or (run and run.get("status") in ("queued", "running")):
                time.sleep(1)
                status, run, _h, _s = client.call("GET", headers["Location"])
            with lock:
                counts[f"run {run.get('status') if run else status}"] += 1
        client.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(HOSTILE_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline - time.monotonic() + WALL * 4)


def calm(target: Target, deadline: float, step: StepResult, jobs: list) -> None:
    """Saves (GET + PUT) and a job submit every fifth save, from 2 threads."""
    base, token = target.server.base, target.tokens["calm"]
    draft = f"/api/v1/workspaces/calm/configs/{target.calm_config}/draft/files"

    def body(i: int) -> None:
        client = Client(base, token)
        path = f"{draft}/notes/n{i}.py"
        status, _b, _h, secs = client.call(
            "POST", draft, {"path": f"notes/n{i}.py", "code": "x = 0\n"}
        )
        step.record(status, secs, "POST")
        n = 0
        while time.monotonic() < deadline and step.count < MAX_CALM_OPS:
            n += 1
            status, _b, headers, secs = client.call("GET", path)
            step.record(status, secs)
            etag = headers.get("ETag", "*")
            status, _b, _h, secs = client.call(
                "PUT", path, {"code": f"x = {n}\n"}, {"If-Match": etag}
            )
            step.record(status, secs, "PUT")
            if n % 5 == 0:
                payload = {
                    "config_version_id": target.version,
                    "input_document_id": target.docs["calm"],
                    "flags": {"bench": f"{i}-{n}"},  # a new run_key: never reused
                }
                status, job, _h, secs = client.call(
                    "POST", "/api/v1/workspaces/calm/jobs", payload
                )
                step.record(status, secs, "POST")
                if status == 202:
                    jobs.append(job["id"])
            time.sleep(0.1)
        client.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(CALM_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline - time.monotonic() + 120)


def job_outcomes(target: Target, jobs: list[str], timeout: float = 180) -> Counter:
    client = Client(target.server.base, target.tokens["calm"])
    outcome: Counter = Counter()
    end = time.monotonic() + timeout
    for job_id in jobs:
        while True:
            _s, job, _h, _secs = client.call(
                "GET", f"/api/v1/workspaces/calm/jobs/{job_id}"
            )
            status = (job or {}).get("status", "unknown")
            if status in ("succeeded", "failed", "cancelled") or time.monotonic() > end:
                outcome[status] += 1
                if status != "succeeded":
                    outcome[f"{status}: {(job or {}).get('error')}"] += 1
                break
            time.sleep(0.5)
    client.close()
    return outcome


def probe(base: str, deadline: float, seen: list) -> None:
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
                seen.append(time.perf_counter() - start if resp.status == 200 else None)
        except OSError:
            seen.append(None)
        time.sleep(0.25)


def measure(target: Target, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    counts, lock, step, jobs, health = (
        Counter(),
        threading.Lock(),
        StepResult("calm"),
        [],
        [],
    )
    sampler = Sampler(target.server)
    sampler.start()
    threads = [
        threading.Thread(target=hostile, args=(target, deadline, counts, lock)),
        threading.Thread(target=calm, args=(target, deadline, step, jobs)),
        threading.Thread(target=probe, args=(target.server.base, deadline, health)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sampler.stop.set()
    sampler.join()
    answered = [s for s in health if s is not None]
    return {
        "counts": counts,
        "calm": step,
        "jobs": job_outcomes(target, jobs),
        "submitted": len(jobs),
        "health": (
            percentile(answered, 50),
            max(answered, default=float("nan")),
            len(health) - len(answered),
        ),
        "rss": (sampler.service, sampler.sandboxes),
        "errors": target.server.log_errors()[:5],
    }


def rows(result: dict) -> list[tuple[str, str]]:
    step, counts = result["calm"], result["counts"]
    ms = lambda s: f"{1000 * s:.0f} ms"  # noqa: E731
    answers = " ".join(
        f"{k.split()[1]}:{v}"
        for k, v in sorted(counts.items())
        if k.startswith("answer")
    )
    ends = " ".join(
        f"{k.split()[1]}:{v}" for k, v in sorted(counts.items()) if k.startswith("run")
    )
    h50, hmax, hfail = result["health"]
    mib = lambda b: f"{b / 2**20:.0f} MiB"  # noqa: E731
    return [
        ("calm requests", str(step.count)),
        ("calm p50", ms(step.pct(50))),
        ("calm p95", ms(step.pct(95))),
        ("calm p99", ms(step.pct(99))),
        ("calm max", ms(max(step.latencies, default=float("nan")))),
        ("calm 5xx / no answer", str(step.server_errors)),
        (
            "calm jobs succeeded",
            f"{result['jobs'].get('succeeded', 0)}/{result['submitted']}",
        ),
        (
            "calm jobs not succeeded",
            " ".join(
                f"{k.split(':')[0]}:{v}"
                for k, v in result["jobs"].items()
                if k != "succeeded" and ":" not in k
            )
            or "0",
        ),
        ("hostile answers", answers or "-"),
        ("hostile 429s", str(counts.get("answer 429", 0))),
        ("hostile runs ended", ends or "-"),
        ("/healthz p50 / max", f"{ms(h50)} / {ms(hmax)}"),
        ("/healthz unanswered", str(hfail)),
        ("peak RSS service", mib(result["rss"][0])),
        ("peak RSS sandboxes", mib(result["rss"][1])),
    ]


def run_target(name: str, checkout: Path, run_dir: Path, seconds: float) -> dict:
    target = Target(name, checkout, run_dir)
    try:
        return measure(target, seconds)
    finally:
        target.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--baseline", default="433dd90")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="ade-hostile-") as tmp:
        run_dir = Path(tmp)
        if not args.no_baseline:
            base = add_worktree(ROOT, args.baseline, run_dir / "baseline")
            try:
                results[f"baseline {args.baseline}"] = run_target(
                    "baseline", base, run_dir, args.seconds
                )
            finally:
                remove_worktree(ROOT, base)
        results["this checkout"] = run_target("pool", ROOT, run_dir, args.seconds)
    names = list(results)
    table = {name: dict(rows(result)) for name, result in results.items()}
    width = max(len(v) for t in table.values() for v in t.values()) + 2
    print(
        f"\n{args.seconds:g} s, {HOSTILE_CLIENTS} hostile clients (one token), "
        f"{CALM_CLIENTS} calm clients, dry-run wall {WALL} s"
    )
    print(f"{'':24}" + "".join(f"{n:>{max(width, len(n) + 2)}}" for n in names))
    for key in table[names[-1]]:
        print(
            f"{key:24}"
            + "".join(f"{table[n][key]:>{max(width, len(n) + 2)}}" for n in names)
        )
    mine = results["this checkout"]
    checks = {
        "calm p99 < 1 s": mine["calm"].pct(99) < 1.0,
        "every calm job succeeded": mine["jobs"].get("succeeded", 0)
        == mine["submitted"]
        > 0,
        "service RSS < 1 GB": mine["rss"][0] < 10**9,
    }
    for what, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {what}")
    for name, result in results.items():
        for what, n in result["jobs"].items():
            if ":" in what:
                print(f"{name}: {n} job(s) {what}")
        for line in result["errors"]:
            print(f"{name} logged: {line}")


if __name__ == "__main__":
    main()
