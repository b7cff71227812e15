"""The cost of calling config hooks per cell: this checkout against a baseline commit.

    .venv/bin/python bench/hooks.py [--baseline REF] [--cells 600000] [--repeat 5]

``transform_cell`` is the hot path of a large file (one call per cell). A trivial
hook (it returns its value) isolates what the runner's loop and wrapper cost around
the config's own code. The baseline is checked out with ``git worktree`` into a
temporary directory and both are timed alternately in fresh interpreters (CPU time,
best of ``--repeat``), so the ratio holds on a loaded machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import sys, time, pathlib
sys.path.insert(0, sys.argv[1])
from runner.context import Context, Hook
from runner import transform

def transform_cell(*, value, row_index, field, state, ctx, **_):
    return value

class Field:
    key, meta, transform_column = "a", {"key": "a"}, None
    transform_cell = Hook(transform_cell, "columns/a.py", pathlib.Path("/cfg"))

class Package:
    plan = [Field]

cells, best = int(sys.argv[2]), float("inf")
for _ in range(int(sys.argv[3])):
    data = {"a": list(range(cells))}
    start = time.process_time()
    transform.transform_columns(data, Package, {"a": 0}, {}, Context({}))
    best = min(best, time.process_time() - start)
print(best)
"""


def measure(root: Path, cells: int, repeat: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), str(cells), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="0023abd", help="git ref to compare")
    parser.add_argument("--cells", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ade-bench-") as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(base),
             args.baseline],
            check=True,
        )  # fmt: skip
        try:
            pairs = [
                (measure(base, args.cells, args.repeat),
                 measure(ROOT, args.cells, args.repeat))
                for _ in range(3)
            ]  # fmt: skip
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                check=False,
            )
    old, new = min(p[0] for p in pairs), min(p[1] for p in pairs)
    print(f"transform_cell x {args.cells}: baseline {args.baseline} {old:.3f} s CPU, "
          f"this checkout {new:.3f} s CPU ({old / new:.1f}x less)")  # fmt: skip


if __name__ == "__main__":
    main()
