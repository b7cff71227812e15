"""Small-file latency (issue 13): a baseline commit against this checkout, one run.

    .venv/bin/python bench/latency.py [--baseline 0023abd] [--calls 50] [--think 1.0]
        [--runs 5] [--pool 2] [--skip-dry-run] [--skip-ade-run]

Dry runs: ``ade serve`` (one gunicorn worker, 127.0.0.1 only) of the baseline
(``git worktree`` in a temp dir, run with this checkout's venv and its tree first on
``PYTHONPATH``), of this checkout with ``ADE_SANDBOX_POOL_SIZE=0`` (cold starts) and
with the pool on. Each gets the same workspace, a 3-column scaffold config and a
20-row workbook, two warm-up calls, then ``--calls`` dry runs, one at a time with
``--think`` seconds between them (an author saving and re-running: the pool refills
in between; back to back, the refill's CPU is the limit). Reported per call: the
client's wall time (keep-alive, 127.0.0.1: the server's time plus well under a
millisecond) and the engine's own ``metrics.elapsed_ms`` from the answer.

``ade run``: wall and CPU time (the ``ade`` process and every process it waited
for, the sandbox worker included: ``wait4``) on a 10-row workbook with
``bench/runner.py``'s 8-column config, baseline and this checkout interleaved,
``--runs`` times each; medians.

Bounded: at most ``3 × (calls + 2)`` dry runs and ``2 × runs`` CLI runs, each
under its own timeout. Ratios, not absolute times, are what holds on a shared
2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_kit import (  # noqa: E402
    HOST,
    Client,
    Server,
    add_worktree,
    percentile,
    remove_worktree,
)

ROOT = Path(__file__).resolve().parents[1]
_RUN_ADE = "import sys; from app.cli import main; sys.argv[0] = 'ade'; main()"


def _bench_runner():
    """bench/runner.py (its name shadows the ``runner`` package: load by path)."""
    spec = importlib.util.spec_from_file_location(
        "bench_runner", Path(__file__).with_name("runner.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upload(client: Client, ws: str, name: str, data: bytes) -> str:
    """A multipart upload of ``data``; the document id."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
    )
    body.write(data)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    import http.client

    conn = http.client.HTTPConnection(client.host, client.port, timeout=60)
    conn.request(
        "POST",
        f"/api/v1/workspaces/{ws}/documents",
        body=body.getvalue(),
        headers={
            "Authorization": f"Bearer {client.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    if resp.status != 201:
        raise RuntimeError(f"upload: {resp.status} {raw[:300]!r}")
    import json

    return json.loads(raw)["id"]


def seed(server: Server, workbook: bytes) -> tuple[Client, str]:
    """Workspace, token, a scaffold config with 3 columns, the document."""
    admin = Client(server.base, server.init())
    server.start(threads=4)
    status, _ws, _h, _s = admin.call(
        "POST", "/api/v1/workspaces", {"slug": "bench", "name": "Bench"}
    )
    assert status == 201, status
    status, tok, _h, _s = admin.call(
        "POST", "/api/v1/workspaces/bench/tokens", {"name": "b", "role": "publisher"}
    )
    assert status == 201, (status, tok)
    admin.close()
    client = Client(server.base, tok["secret"])
    status, cfg, _h, _s = client.call(
        "POST", "/api/v1/workspaces/bench/configs", {"slug": "c", "title": "c"}
    )
    assert status == 201, (status, cfg)
    for key in ("email", "first_name", "member_id"):
        status, col, _h, _s = client.call(
            "POST",
            "/api/v1/workspaces/bench/configs/c/draft/columns",
            {"key": key, "label": key},
        )
        assert status in (201, 409), (status, col)  # 409: the scaffold has it
    return client, upload(client, "bench", "roster.xlsx", workbook)


def dry_runs(server: Server, workbook: bytes, calls: int, think: float) -> dict:
    client, doc = seed(server, workbook)
    path = "/api/v1/workspaces/bench/configs/c/draft:dry-run"
    walls, engine = [], []
    try:
        for i in range(calls + 2):
            status, body, _h, secs = client.call("POST", path, {"documentId": doc})
            if status != 200 or body.get("status") != "succeeded":
                raise RuntimeError(f"{server.name}: dry run {status}: {body}")
            if i >= 2:  # two warm-up calls
                walls.append(secs * 1000)
                engine.append(body["metrics"]["elapsed_ms"])
            time.sleep(think)
    finally:
        client.close()
    return {
        "p50": percentile(walls, 50),
        "p95": percentile(walls, 95),
        "engine_p50": statistics.median(engine),
        "errors": server.log_errors(),
    }


def ade_run(checkout: Path, config: Path, workbook: Path, out: Path) -> tuple:
    """(wall s, CPU s of the process and all it waited for) of one ``ade run``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = str(checkout)
    cmd = [sys.executable, "-c", _RUN_ADE, "run", "--config", str(config)]
    cmd += [str(workbook), "-o", str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ade run in {checkout} failed: {err.strip()}")
    return wall, usage.ru_utime + usage.ru_stime


def ade_runs(base: Path, runs: int, work: Path) -> dict:
    kit = _bench_runner()
    workbook = work / "roster-10.xlsx"
    kit.write_workbook(workbook, 10)
    config = kit.write_config(work / "cli-config")
    seen: dict[str, list[tuple]] = {"baseline": [], "new": []}
    for _ in range(runs):
        seen["baseline"].append(ade_run(base, config, workbook, work / "b.xlsx"))
        seen["new"].append(ade_run(ROOT, config, workbook, work / "n.xlsx"))
    return {
        name: (
            statistics.median(r[0] for r in rows),
            statistics.median(r[1] for r in rows),
        )
        for name, rows in seen.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="0023abd", help="git ref")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="s between calls")
    parser.add_argument("--runs", type=int, default=5, help="ade runs per side")
    parser.add_argument("--pool", type=int, default=2, help="pool size of 'pool on'")
    parser.add_argument(
        "--variants", default="base,cold,pool", help="dry-run servers to measure"
    )
    parser.add_argument("--skip-dry-run", action="store_true")
    parser.add_argument("--skip-ade-run", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ade-latency-") as tmp:
        work = Path(tmp)
        base = add_worktree(ROOT, args.baseline, work / "baseline")
        try:
            report(args, base, work)
        finally:
            remove_worktree(ROOT, base)


def report(args, base: Path, work: Path) -> None:
    print(f"baseline {args.baseline}; 127.0.0.1 ({HOST}); 2 warm-up calls each")
    if not args.skip_dry_run:
        kit = _bench_runner()
        wb = work / "roster-20.xlsx"
        kit.write_workbook(wb, 20)
        data = wb.read_bytes()
        variants = [
            (label, checkout, pool)
            for key, label, checkout, pool in (
                ("base", "baseline", base, "0"),
                ("cold", "new, pool 0", ROOT, "0"),
                ("pool", f"new, pool {args.pool}", ROOT, str(args.pool)),
            )
            if key in args.variants.split(",")
        ]
        results = {}
        for name, checkout, pool in variants:
            server = Server(name.replace(" ", "").replace(",", "-"), checkout, work, 1)
            server.env.update(
                ADE_SANDBOX_POOL_SIZE=pool,
                ADE_RATE_LIMIT_DRY_RUN="",
                ADE_RATE_LIMIT_UPLOAD="",
            )
            try:
                results[name] = dry_runs(server, data, args.calls, args.think)
            finally:
                server.stop()
        dry_table(results, args)
    if not args.skip_ade_run:
        cli = ade_runs(base, args.runs, work)
        (bw, bc), (nw, nc) = cli["baseline"], cli["new"]
        print(f"\nade run, 10 rows, median of {args.runs} (interleaved)")
        print(f"{'':14}{'baseline':>10}{'new':>10}{'new/base':>10}")
        print(f"{'wall s':14}{bw:10.2f}{nw:10.2f}{nw / bw:10.2f}")
        print(f"{'CPU s':14}{bc:10.2f}{nc:10.2f}{nc / bc:10.2f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


def dry_table(results: dict, args) -> None:
    names = list(results)
    print(
        f"\ndry run, 20 rows, {args.calls} calls, {args.think:g} s apart "
        "(client wall ms; engine = the report's elapsed_ms)"
    )
    print(f"{'':16}" + "".join(f"{n:>16}" for n in names) + f"{'pool/base':>12}")
    for key, label in (
        ("p50", "p50 ms"),
        ("p95", "p95 ms"),
        ("engine_p50", "engine p50"),
    ):
        row = [results[n][key] for n in names]
        print(
            f"{label:16}"
            + "".join(f"{v:16.0f}" for v in row)
            + f"{row[-1] / row[0]:12.2f}"
        )
    for name in names:
        if results[name]["errors"]:
            print(f"{name}: server logged errors: {results[name]['errors'][:3]}")


if __name__ == "__main__":
    main()
