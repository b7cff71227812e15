"""Benchmark: ``ade run`` end to end against the I/O floor, measured in one run.

    .venv/bin/python bench/runner.py [--rows N] [--repeat 3] [--keep DIR] [--profile]
        [--baseline CHECKOUT]

Generates a workbook (2 title rows and a spacer above the header, 8 target fields and
4 distractor columns of mixed types) and a config package with 8 column scripts, then
measures, each in its own process so that peak memory is per measurement:

(a) ``python -m runner.cli`` — the sandboxed CLI path (export, worker, engine, write);
(b) the floor — calamine reading every row + openpyxl write-only writing them again.

Prints wall and CPU time (CPU is the steadier number when other work shares the
machine), the ratios (a)/(b), and peak RSS (``wait4`` of each process, which includes
the sandbox worker it waited for). Targets: ≤ 1.2× floor and < 300 MB.
``--profile`` also runs the engine in-process under cProfile and prints the top 25.
``--baseline CHECKOUT`` (e.g. ``git worktree add --detach /tmp/base main``) also
runs (c) the same CLI from that checkout, interleaved with (a) and (b), on the same
workbook and config, and prints (a)/(c): a change's cost measured in one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADERS = [
    "Member #", "First Name", "Last Name", "E-mail Address", "Phone",
    "Date of Birth", "ZIP", "Balance",
    "Notes", "Active", "Created At", "Region Code",
]  # fmt: skip
FIELDS = [
    ("member_id", ["member", "id", "#"], r"^\d{5,8}$"),
    ("first_name", ["first", "given"], r"^[A-Z][a-z]+$"),
    ("last_name", ["last", "surname", "family"], r"^[A-Z][a-z]+$"),
    ("email", ["mail"], r"^[^@\s]+@[^@\s]+\.[a-z]+$"),
    ("phone", ["phone", "tel"], r"^\(?\d{3}\)?[ -]?\d{3}-\d{4}$"),
    ("birth_date", ["birth", "dob"], None),
    ("postal_code", ["zip", "postal"], r"^\d{5}(-\d{4})?$"),
    ("balance", ["balance", "amount"], None),
]
FIRST = ["Alice", "Bob", "Carla", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivan"]
LAST = ["Smith", "Jones", "Garcia", "Nguyen", "Okafor", "Rossi", "Silva", "Kim"]


def make_rows(n: int, seed: int = 7):
    rnd = random.Random(seed)
    base = dt.date(1950, 1, 1)
    created = dt.datetime(2020, 1, 1, 8, 0)
    for i in range(n):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        yield [
            100000 + i,
            first,
            last,
            f"{first}.{last}{i}@example.org".lower() if i % 97 else "n/a",
            f"({rnd.randint(200, 999)}) 555-{rnd.randint(0, 9999):04d}",
            base + dt.timedelta(days=rnd.randint(0, 20000)),
            f"{rnd.randint(1000, 99999):05d}",
            round(rnd.uniform(-500, 5000), 2),
            rnd.choice(["", "call back", "VIP", "moved; check address", None]),
            rnd.random() < 0.8,
            created + dt.timedelta(minutes=i),
            rnd.choice(["NE", "SW", 12, 7.5, "X-1"]),
        ]  # fmt: skip


def write_workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Members")
    ws.append(["Acme Corp — member roster"])
    ws.append([f"Exported {dt.date(2024, 1, 5).isoformat()}, confidential"])
    ws.append([])
    ws.append(HEADERS)
    for row in make_rows(rows):
        ws.append(row)
    wb.save(path)


COLUMN_SCRIPT = """
import re

WORDS = {words!r}
PATTERN = re.compile({pattern!r}) if {pattern!r} else None


def detect_header(*, header, **_):
    text = (header or "").lower()
    return 1.0 if any(w in text for w in WORDS) else None


def detect_values(*, values, **_):
    if not values:
        return None
    if PATTERN is None:
        return None
    hits = sum(1 for v in values if PATTERN.match(str(v)))
    return round(hits / len(values), 3)


def transform_column(*, values, **_):
    return [v.strip() if isinstance(v, str) else v for v in values]


def validate(*, values, field, **_):
    issues = []
    if PATTERN is None:
        return issues
    for i, v in enumerate(values):
        if v is not None and not PATTERN.match(str(v)):
            issues.append({{"row_index": i, "message": f"bad {{field['key']}}",
                           "code": "pattern"}})
    return issues
"""


def write_config(root: Path) -> Path:
    (root / "columns").mkdir(parents=True)
    columns = []
    for n, (key, words, pattern) in enumerate(FIELDS, 1):
        script = COLUMN_SCRIPT.format(words=words, pattern=pattern)
        (root / "columns" / f"{key}.py").write_text(textwrap.dedent(script))
        columns.append(
            {"key": key, "label": key.replace("_", " ").title(),
             "path": f"columns/{key}.py", "ordinal": n, "required": n <= 4,
             "enabled": True, "depends_on": []}
        )  # fmt: skip
    manifest = {
        "name": "Bench roster", "sdk_version": "0.1.0", "min_score": 1.0,
        "columns": columns,
        "hints": {"header_row": None, "header_row_contains": [], "sample_rows": 100},
        "pins": {},
        "capabilities": {"allow_network": False, "allow_llm": False, "resources": {}},
    }  # fmt: skip
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return root


def floor(source: Path, dest: Path) -> int:
    """The I/O floor: calamine read of every row + openpyxl write-only of them."""
    import python_calamine
    from openpyxl import Workbook

    book = python_calamine.CalamineWorkbook.from_path(str(source))
    rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Normalized")
    for row in rows:
        ws.append(row)
    wb.save(dest)
    return len(rows)


def timed(
    cmd: list[str], cwd: Path = ROOT
) -> tuple[float, int, subprocess.CompletedProcess, float]:
    """Wall seconds, peak RSS in bytes (the process and children it waited for), the
    completed process, and CPU seconds (user + system, children included)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    done = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss * 1024, done, cpu


def profile(config: Path, source: Path, dest: Path) -> None:
    import cProfile
    import pstats

    sys.path.insert(0, str(ROOT))  # this file's own name shadows the package
    from runner.engine import run

    prof = cProfile.Profile()
    prof.runcall(run, config, source, dest)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def same_output(ours: Path, theirs: Path) -> str:
    """Whether two output workbooks are the same: byte for byte, else member by
    member of the zip, leaving out docProps (the write time is in it)."""
    import zipfile

    if ours.read_bytes() == theirs.read_bytes():
        return "output: byte-identical to the baseline's"
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(theirs) as b:
        names = sorted(n for n in a.namelist() if not n.startswith("docProps/"))
        other = sorted(n for n in b.namelist() if not n.startswith("docProps/"))
        differ = [n for n in names if n not in other or a.read(n) != b.read(n)]
    if names == other and not differ:
        return "output: same sheets, styles and cells byte for byte (docProps differ)"
    return f"output: DIFFERS from the baseline's in {differ or 'its members'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Work dir to keep (and reuse).")
    parser.add_argument("--repeat", type=int, default=3, help="Best of N (default 3)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--baseline", type=Path, help="a checkout to compare with")
    parser.add_argument("--floor", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:  # the child process of measurement (b)
        floor(*args.floor)
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="ade-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"roster-{args.rows}.xlsx"
    if not source.exists():
        started = time.perf_counter()
        write_workbook(source, args.rows)
        print(f"generated {source} ({source.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    config = work / "config"
    if not config.exists():
        write_config(config)

    py = sys.executable
    ade_cmd = [py, "-m", "runner.cli", "--config", str(config), str(source),
               "-o", str(work / "out.xlsx"), "--report", str(work / "report.json"),
               "--timeout", "600"]  # fmt: skip
    floor_cmd = [py, str(Path(__file__).resolve()), "--floor", str(source),
                 str(work / "floor.xlsx")]  # fmt: skip
    base_cmd = [*ade_cmd[:-4], "--report", str(work / "base-report.json"),
                "--timeout", "600"]  # fmt: skip
    base_cmd[base_cmd.index("-o") + 1] = str(work / "base-out.xlsx")
    # Interleaved and best-of-N: other work on a 2-core machine skews single runs.
    ade_runs, floor_runs, base_runs = [], [], []
    for _ in range(args.repeat):
        ade_runs.append(timed(ade_cmd))
        if ade_runs[-1][2].returncode != 0:
            sys.exit(f"ade run failed: {ade_runs[-1][2].stderr.decode().strip()}")
        floor_runs.append(timed(floor_cmd))
        if floor_runs[-1][2].returncode != 0:
            sys.exit(f"floor failed: {floor_runs[-1][2].stderr.decode().strip()}")
        if args.baseline:
            base_runs.append(timed(base_cmd, cwd=args.baseline))
            if base_runs[-1][2].returncode != 0:
                sys.exit(f"baseline failed: {base_runs[-1][2].stderr.decode()}")
    ade_s, ade_rss, ade, ade_cpu = min(ade_runs, key=lambda r: r[0])
    floor_s, floor_rss, _, floor_cpu = min(floor_runs, key=lambda r: r[0])
    ade_cpu = min(r[3] for r in ade_runs)
    floor_cpu = min(r[3] for r in floor_runs)
    ade_rss = max(r[1] for r in ade_runs)
    floor_rss = max(r[1] for r in floor_runs)
    report = json.loads((work / "report.json").read_text())
    metrics = report["metrics"]
    print(ade.stdout.decode().rstrip())
    print()
    print(
        f"rows: {args.rows}, columns mapped: {metrics['columns_mapped']}, "
        f"issues: {metrics['issues']}, engine elapsed: {metrics['elapsed_ms']} ms"
    )
    print(f"best of {args.repeat}, interleaved; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':26}{'wall s':>8}{'CPU s':>8}{'peak RSS MB':>13}")
    for name, wall, cpu, rss in (
        ("(a) ade run (sandboxed)", ade_s, ade_cpu, ade_rss),
        ("(b) floor (calamine+wo)", floor_s, floor_cpu, floor_rss),
    ):
        print(f"{name:26}{wall:8.2f}{cpu:8.2f}{rss / 2**20:13.0f}")
    print(
        f"ratio a/b: wall {ade_s / floor_s:.2f}x, CPU {ade_cpu / floor_cpu:.2f}x "
        f"(target <= 1.2x); peak {ade_rss / 2**20:.0f} MB (target < 300 MB)"
    )
    if base_runs:
        base_s = min(r[0] for r in base_runs)
        base_cpu = min(r[3] for r in base_runs)
        base_rss = max(r[1] for r in base_runs)
        print(f"{'(c) baseline ' + args.baseline.name:26}{base_s:8.2f}{base_cpu:8.2f}"
              f"{base_rss / 2**20:13.0f}")  # fmt: skip
        print(f"ratio a/c: wall {ade_s / base_s:.2f}x, CPU {ade_cpu / base_cpu:.2f}x "
              f"(this checkout against {args.baseline})")  # fmt: skip
        print(same_output(work / "out.xlsx", work / "base-out.xlsx"))
    if args.profile:
        profile(config, source, work / "profiled.xlsx")


if __name__ == "__main__":
    main()
