"""Load on ``ade serve`` (2 workers x 4 threads): this checkout against a baseline
commit (default ``main``) checked out with ``git worktree``, both measured in one run.

Steps, each run against the baseline and then this checkout (alternating, so both see
the same background load): draft-file GETs at 1/10/50 clients; saves at 1/10/50
clients each on its own file; 20 clients saving one file (412s retried with the
backoff docs/api.md documents); a mixed run (GETs and saves, a publish every 5 s).
After each step: every save answered 200 is on the draft with the blob it was
answered, the draft has no merge, ``git fsck --strict`` is clean. Prints req/s and
p50/p99 per step and the ratios the targets are about. Bounded in count and time;
127.0.0.1 only. With py-spy installed (``--profile``), the workers are sampled
during the 10-client GET and save steps and the top functions printed.

    .venv/bin/python bench/load.py [--baseline main] [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_kit import (  # noqa: E402
    Client,
    Server,
    StepResult,
    add_worktree,
    profile,
    profile_top,
    remove_worktree,
    run_pool,
    verify_repo,
)

ROOT = Path(__file__).resolve().parents[1]
WS = "/api/v1/workspaces/bench"
MAX_BACKOFF = 30.0


class Target:
    """One served checkout, seeded: a reads config, an own-files config with one
    column per client, a hot config with one file, a mixed config."""

    def __init__(self, server: Server, columns: int):
        self.server = server
        admin = server.init()
        server.start()
        api = Client(server.base, admin)
        status, ws, _h, _s = api.call(
            "POST", "/api/v1/workspaces", {"slug": "bench", "name": "Bench"}
        )
        assert status == 201, (status, ws)
        self.ws_id = ws["id"]
        status, tok, _h, _s = api.call(
            "POST", f"{WS}/tokens", {"name": "bench", "role": "publisher"}
        )
        assert status == 201, (status, tok)
        self.token = tok["secret"]
        self.configs: dict[str, str] = {}
        self.files: dict[str, list[dict]] = {}
        client = Client(server.base, self.token)
        for slug, count in (("reads", 1), ("own", columns), ("hot", 1), ("mixed", 10)):
            status, cfg, _h, _s = client.call(
                "POST", f"{WS}/configs", {"slug": slug, "title": slug}
            )
            assert status == 201, (status, cfg)
            self.configs[slug] = cfg["id"]
            self.files[slug] = [self._add_column(client, slug, i) for i in range(count)]
        client.close()
        api.close()

    def _add_column(self, client: Client, slug: str, i: int) -> dict:
        key = f"c{i:02d}"
        status, col, _h, _s = client.call(
            "POST", f"{WS}/configs/{slug}/draft/columns", {"key": key, "label": key}
        )
        assert status == 201, (status, col)
        status, file, _h, _s = client.call(
            "GET", f"{WS}/configs/{slug}/draft/files/{col['path']}"
        )
        assert status == 200, (status, file)
        return {"path": file["path"], "sha": file["sha"], "code": file["code"]}

    def repo(self, slug: str) -> Path:
        return self.server.repo_path(self.ws_id, self.configs[slug])


def file_url(slug: str, path: str) -> str:
    return f"{WS}/configs/{slug}/draft/files/{path}"


def backoff(headers: dict, attempt: int) -> float:
    """The client backoff docs/api.md documents: a random wait in a window of
    Retry-After seconds (1 without one), doubled per further failure up to 8x."""
    try:
        base = float(headers.get("Retry-After", "1"))
    except ValueError:
        base = 1.0
    return random.uniform(0, min(MAX_BACKOFF, base * 2 ** min(attempt, 3)))


def step_gets(t: Target, clients: int, seconds: float, max_ops: int) -> StepResult:
    res = StepResult(f"GET x{clients}")
    url = file_url("reads", t.files["reads"][0]["path"])

    def body(_i, go):
        client = Client(t.server.base, t.token)
        while go():
            status, _b, _h, secs = client.call("GET", url)
            res.record(status, secs)
        client.close()

    res.seconds = run_pool(
        clients, body, max_ops=max_ops, max_seconds=seconds, counter=lambda: res.count
    )
    return res


def step_own_saves(t: Target, clients: int, seconds: float, max_ops: int) -> StepResult:
    """Each client saves its own file of the "own" config, If-Match its last ETag."""
    res = StepResult(f"PUT x{clients} own file")

    def body(i, go):
        client = Client(t.server.base, t.token)
        file = t.files["own"][i]
        url, sha, n = file_url("own", file["path"]), file["sha"], 0
        while go():
            n += 1
            code = f"{file['code']}# save {n} by client {i}\n"
            status, out, _h, secs = client.call(
                "PUT", url, {"code": code}, {"If-Match": f'"{sha}"'}
            )
            res.record(status, secs, "PUT")
            if status == 200:
                sha = out["sha"]
                with res.lock:
                    res.saves.append((out["commit"], file["path"], sha))
            elif status == 412 and out:
                sha = out.get("current_etag") or sha
        file["sha"] = sha
        client.close()

    res.seconds = run_pool(
        clients, body, max_ops=max_ops, max_seconds=seconds, counter=lambda: res.count
    )
    return res


def step_hot(t: Target, clients: int, seconds: float) -> StepResult:
    """``clients`` writers of one file: on 412 back off as documented, re-read,
    retry. Records time-to-land per save and saves landed per client (PUTs only in
    the latencies)."""
    res = StepResult(f"PUT x{clients} one file")
    file = t.files["hot"][0]
    url = file_url("hot", file["path"])
    landed = [0] * clients
    to_land: list[float] = []

    def body(i, go):
        client = Client(t.server.base, t.token)
        sha, n = file["sha"], 0
        while go():
            n += 1
            code = f"{file['code']}# save {n} by client {i}\n"
            start, attempt = time.perf_counter(), 0
            while go():
                status, out, hdrs, secs = client.call(
                    "PUT", url, {"code": code}, {"If-Match": f'"{sha}"'}
                )
                res.record(status, secs, "PUT")
                if status == 200:
                    sha = out["sha"]
                    landed[i] += 1
                    with res.lock:
                        res.saves.append((out["commit"], file["path"], sha))
                        to_land.append(time.perf_counter() - start)
                    break
                time.sleep(backoff(hdrs, attempt))
                attempt += 1
                # Re-read just before the retry (a real client merges here): an
                # ETag from before the sleep is likely stale again by now.
                status, out, _h, _s = client.call("GET", url)
                if status == 200:
                    sha = out["sha"]
        client.close()

    res.seconds = run_pool(
        clients, body, max_ops=10**9, max_seconds=seconds, counter=lambda: 0
    )
    res.extra = {"landed": landed, "to_land": to_land}
    return res


def step_mixed(t: Target, clients: int, seconds: float, every: float) -> StepResult:
    """GETs and saves (4:1) on the mixed config while a publish lands every
    ``every`` seconds."""
    res = StepResult(f"mixed {int(seconds)} s")
    publishes: list[int] = []
    stop = threading.Event()

    def publisher():
        client = Client(t.server.base, t.token)
        n = 0
        while not stop.wait(every):
            n += 1
            status, _b, _h, _s = client.call(
                "POST",
                f"{WS}/configs/mixed/publish",
                {"semver": f"1.0.{n}", "message": "bench"},
            )
            publishes.append(status)
        client.close()

    def body(i, go):
        client = Client(t.server.base, t.token)
        file = t.files["mixed"][i % len(t.files["mixed"])]
        url, n = file_url("mixed", file["path"]), 0
        rng = random.Random(i)
        writer = i < len(t.files["mixed"])  # one writer per file: its ETag holds
        while go():
            if not writer or rng.random() < 0.8:
                status, out, _h, secs = client.call("GET", url)
                res.record(status, secs)
                if status == 200 and writer:
                    file["sha"] = out["sha"]
                continue
            n += 1
            code = f"{file['code']}# mixed save {n}\n"
            status, out, _h, secs = client.call(
                "PUT", url, {"code": code}, {"If-Match": f'"{file["sha"]}"'}
            )
            res.record(status, secs, "PUT")
            if status == 200:
                file["sha"] = out["sha"]
                with res.lock:
                    res.saves.append((out["commit"], file["path"], out["sha"]))

    thread = threading.Thread(target=publisher, daemon=True)
    thread.start()
    res.seconds = run_pool(
        clients, body, max_ops=10**9, max_seconds=seconds, counter=lambda: 0
    )
    stop.set()
    thread.join(60)
    res.extra = {"publishes": publishes}
    return res


def plan(quick: bool) -> list[tuple[str, callable]]:
    """(name, run(target) -> StepResult) in order; ``quick`` shrinks every bound."""
    k = 0.1 if quick else 1.0

    def secs(s: float) -> float:
        return max(3.0, s * k)

    return [
        ("get1", lambda t: step_gets(t, 1, secs(8), int(20_000 * k))),
        ("get10", lambda t: step_gets(t, 10, secs(8), int(40_000 * k))),
        ("get50", lambda t: step_gets(t, 50, secs(8), int(40_000 * k))),
        ("put1", lambda t: step_own_saves(t, 1, secs(60), int(600 * k))),
        ("put10", lambda t: step_own_saves(t, 10, secs(300), int(5_000 * k))),
        ("put50", lambda t: step_own_saves(t, 50, secs(300), int(5_000 * k))),
        ("hot20", lambda t: step_hot(t, 20, secs(30))),
        ("mixed", lambda t: step_mixed(t, 20, secs(60), 5.0)),
    ]


REPO_OF = {"put": "own", "hot": "hot", "mix": "mixed"}


def check(t: Target, key: str, res: StepResult) -> list[str]:
    slug = REPO_OF.get(key[:3])
    problems = verify_repo(t.repo(slug), res.saves) if slug else []
    if res.server_errors:
        problems.append(f"{res.server_errors} answers >= 500: {dict(res.statuses)}")
    return problems


def line(target: str, res: StepResult, problems: list[str]) -> str:
    rate = res.count / res.seconds if res.seconds else 0.0
    codes = " ".join(f"{s}:{n}" for s, n in sorted(res.statuses.items()))
    verdict = "ok" if not problems else f"PROBLEMS {len(problems)}"
    return (
        f"[load {os.getloadavg()[0]:4.1f}] "
        f"{target:9} {res.name:18} n={res.count:6d} {rate:7.1f} req/s  "
        f"p50 {1000 * res.pct(50):7.1f} ms  p99 {1000 * res.pct(99):7.1f} ms  "
        f"[{codes}] {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="main", help="git ref to compare with")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--profile", action="store_true", help="py-spy the workers")
    parser.add_argument("--only", default="", help="comma-separated step names")
    args = parser.parse_args(argv)
    run_dir = Path(tempfile.mkdtemp(prefix="ade-load-"))
    base_tree = add_worktree(ROOT, args.baseline, run_dir / "baseline")
    print(f"run dir {run_dir}; baseline {args.baseline} in {base_tree}", flush=True)
    servers = [
        Server("baseline", base_tree, run_dir),
        Server("candidate", ROOT, run_dir),
    ]
    results: dict[tuple[str, str], StepResult] = {}
    failures = 0
    try:
        targets = {s.name: Target(s, columns=50) for s in servers}
        steps = [
            s for s in plan(args.quick) if not args.only or s[0] in args.only.split(",")
        ]
        for key, run in steps:
            for name, target in targets.items():
                spy = None
                raw = run_dir / f"profile-{name}-{key}.txt"
                if args.profile and key in ("get10", "put10"):
                    spy = profile(target.server.proc.pid, 8, raw)
                res = run(target)
                if spy is not None:
                    spy.wait(60)
                problems = check(target, key, res)
                failures += bool(problems)
                results[(name, key)] = res
                print(line(name, res, problems), flush=True)
                for problem in problems[:10]:
                    print(f"    {problem}")
                report_extra(res)
                if spy is not None:
                    print("    profile (share of samples on the stack):")
                    for row in profile_top(raw):
                        print(f"      {row}")
                time.sleep(1.0)
        summary(results)
        for server in servers:
            errors = server.log_errors()
            print(f"{server.name}: {len(errors)} error lines in {server.log}")
            for err in errors[:5]:
                print(f"    {err}")
    finally:
        for server in servers:
            server.stop()
        remove_worktree(ROOT, base_tree)
    return 1 if failures else 0


def report_extra(res: StepResult) -> None:
    from load_kit import percentile

    if "landed" in res.extra:
        landed, to_land = res.extra["landed"], res.extra["to_land"]
        print(
            f"    landed per client min {min(landed)} median "
            f"{sorted(landed)[len(landed) // 2]} max {max(landed)}; time to land "
            f"p50 {percentile(to_land, 50):.2f} s p99 {percentile(to_land, 99):.2f} s"
        )
    if "publishes" in res.extra:
        print(f"    publishes: {res.extra['publishes']}")


def summary(results: dict[tuple[str, str], StepResult]) -> None:
    """The figures the targets are about, per checkout."""
    print("\nsummary")
    for name in ("baseline", "candidate"):
        mine = {k: r for (n, k), r in results.items() if n == name}
        puts = sum(sum(r.puts.values()) for r in mine.values())
        put_5xx = sum(n for r in mine.values() for s, n in r.puts.items() if s >= 500)
        errors = sum(r.server_errors for r in mine.values())
        print(
            f"  {name}: {puts} saves (PUT) answered, {put_5xx} of them >= 500; "
            f"{errors} answers >= 500 in all"
        )
        ratios = [
            ("save p99 / p50 at 1 client (target <= 3)", "put1", 99, "put1", 50),
            ("PUT p50 / GET p50 at 1 client (target <= 2)", "put1", 50, "get1", 50),
            ("PUT p50 / GET p50 at 10 clients", "put10", 50, "get10", 50),
        ]
        for label, a, qa, b, qb in ratios:
            if a in mine and b in mine:
                print(f"    {label}: {mine[a].pct(qa) / mine[b].pct(qb):.2f}")
    for key in ("get1", "get10", "get50", "put10", "put50"):
        old, new = results.get(("baseline", key)), results.get(("candidate", key))
        if old and new and old.count and new.count:
            ratio = (new.count / new.seconds) / (old.count / old.seconds)
            print(f"  {key} throughput, candidate / baseline: {ratio:.2f}")
    print("  (target: get10 >= 1.5)")


if __name__ == "__main__":
    sys.exit(main())
