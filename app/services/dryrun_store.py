"""The outputs of recent dry runs: the normalized workbook and the report, kept
under ``<data>/dry-runs/<workspace id>/<run id>/`` so the editor can offer them as
downloads, and served only to the workspace that ran them.

They are scratch, not history: a workspace keeps its newest ``DRY_RUN_KEEP`` runs,
none older than ``DRY_RUN_KEEP_HOURS`` (pruned at each dry run of the workspace and
at ``ade serve`` start; an expired run asked for is removed and not found). A run
still in flight is never pruned.

The folder is also where a run's state lives, so that any process of the service
can answer a poll: ``state.json`` (queued or running, its progress, the pid and host
of the process running it, stamped every second by that process's heartbeat) until
``report.json`` appears. The report is written once (linked into place complete: the
first writer wins), by the run, or by a poll that finds the run's process gone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.services.errors import NotFound

OUTPUT, REPORT, STATE = "output.xlsx", "report.json", "state.json"
# A run whose state was not stamped for this long has lost its process (the
# heartbeat stamps it every second; a busy process may be a few seconds late).
STALE_SECONDS = 15.0
_RUN_ID = re.compile(r"[0-9a-f]{32}")


def workspace_dir(data_dir: Path, workspace_id: str) -> Path:
    return Path(data_dir) / "dry-runs" / workspace_id


def _max_age(settings: Mapping[str, Any]) -> float:
    return settings["DRY_RUN_KEEP_HOURS"] * 3600.0


def new_run(data_dir: Path, workspace_id: str, settings: Mapping[str, Any]):
    """A fresh run id and its (empty) folder, after pruning the workspace's old
    runs so that this one is within ``DRY_RUN_KEEP``."""
    prune(data_dir, workspace_id, settings, room=1)
    run_id = uuid.uuid4().hex
    folder = workspace_dir(data_dir, workspace_id) / run_id
    folder.mkdir(parents=True, mode=0o700)
    return run_id, folder


def _write_new(path: Path, data: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(data)
    return tmp


def save_report(folder: Path, report: Mapping[str, Any]) -> bool:
    """Write the run's report unless it has one already; True if this one went in."""
    tmp = _write_new(folder / REPORT, json.dumps(report, default=str))
    try:
        os.link(tmp, folder / REPORT)  # whole or not at all, and never replaced
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def load_report(folder: Path) -> dict | None:
    try:
        return json.loads((folder / REPORT).read_text())
    except FileNotFoundError:
        return None


def save_state(folder: Path, status: str, **fields: Any) -> None:
    """Replace the run's state (atomically), naming this process as its owner."""
    state = {"status": status, "pid": os.getpid(), "host": socket.gethostname()}
    tmp = _write_new(folder / STATE, json.dumps({**state, **fields}, default=str))
    os.replace(tmp, folder / STATE)


def load_state(folder: Path) -> tuple[dict, float] | None:
    """The run's state and when it was last stamped (epoch seconds)."""
    try:
        with open(folder / STATE) as f:
            return json.load(f), os.fstat(f.fileno()).st_mtime
    except (FileNotFoundError, ValueError):
        return None


def stamp_state(folder: Path) -> None:
    os.utime(folder / STATE)


def is_stale(state: dict, stamped: float, now: float | None = None) -> bool:
    """True when the run's process is gone: not stamped for ``STALE_SECONDS``, or
    on this host and its pid no longer exists; or when it is past its deadline
    by as much. (A reused pid keeps a dead run
    "live" only until the stamps stop counting.)"""
    now = time.time() if now is None else now
    if now - stamped > STALE_SECONDS:
        return True
    deadline = state.get("deadline")
    if isinstance(deadline, int | float) and now > deadline + STALE_SECONDS:
        return True  # alive, but the run outlived its wall limit: never finishing
    if state.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(state.get("pid") or 0), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, OverflowError):
        pass
    return False


def in_flight(folder: Path) -> bool:
    """A run with no report whose state is fresh (never pruned)."""
    if (folder / REPORT).exists():
        return False
    loaded = load_state(folder)
    return loaded is not None and not is_stale(*loaded)


def prune(
    data_dir: Path, workspace_id: str, settings: Mapping[str, Any], room: int = 0
) -> int:
    """Remove runs older than the age limit and the oldest beyond the count limit
    (less ``room`` for runs about to be made); return how many went."""
    base = workspace_dir(data_dir, workspace_id)
    if not base.is_dir():
        return 0
    runs = sorted(
        (p for p in base.iterdir() if p.is_dir() and _RUN_ID.fullmatch(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    cutoff = time.time() - _max_age(settings)
    keep = max(settings["DRY_RUN_KEEP"] - room, 0)
    doomed = [
        p
        for i, p in enumerate(runs)
        if (i >= keep or p.stat().st_mtime < cutoff) and not in_flight(p)
    ]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return len(doomed)


def prune_all(data_dir: Path, settings: Mapping[str, Any]) -> int:
    """Prune every workspace's runs (at start-up)."""
    root = Path(data_dir) / "dry-runs"
    if not root.is_dir():
        return 0
    return sum(prune(data_dir, p.name, settings) for p in root.iterdir() if p.is_dir())


def _unexpired(data_dir: Path, workspace_id: str, run_id: str, settings) -> Path:
    """A run's folder path, after removing it if it has expired (and is not in
    flight); NotFound for what is not a run id."""
    if not _RUN_ID.fullmatch(run_id or ""):
        raise NotFound(f"Dry run {run_id!r} not found.")
    folder = workspace_dir(data_dir, workspace_id) / run_id
    if folder.is_dir() and folder.stat().st_mtime < time.time() - _max_age(settings):
        if not in_flight(folder):
            shutil.rmtree(folder, ignore_errors=True)
    return folder


def run_folder(data_dir: Path, workspace_id: str, run_id: str, settings) -> Path:
    """The folder of a run of this workspace; not found when the run is unknown,
    another workspace's or expired."""
    folder = _unexpired(data_dir, workspace_id, run_id, settings)
    if not folder.is_dir():
        raise NotFound(f"Dry run {run_id!r} not found (unknown or expired).")
    return folder


def artifact(
    data_dir: Path, workspace_id: str, run_id: str, name: str, settings
) -> Path:
    """The path of a run's output or report in this workspace; not found when the
    run is unknown, another workspace's, expired, or produced no such file."""
    path = _unexpired(data_dir, workspace_id, run_id, settings) / name
    if not path.is_file():
        what = "workbook" if name == OUTPUT else "report"
        raise NotFound(
            f"Dry run {run_id!r} has no {what} (unknown, expired or it failed)."
        )
    return path
