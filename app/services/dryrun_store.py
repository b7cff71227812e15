"""The outputs of recent dry runs: the normalized workbook and the report, kept
under ``<data>/dry-runs/<workspace id>/<run id>/`` so the editor can offer them as
downloads, and served only to the workspace that ran them.

They are scratch, not history: a workspace keeps its newest ``DRY_RUN_KEEP`` runs,
none older than ``DRY_RUN_KEEP_HOURS`` (pruned at each dry run of the workspace and
at ``ade serve`` start; an expired run asked for is removed and not found).
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.services.errors import NotFound

OUTPUT, REPORT = "output.xlsx", "report.json"
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


def save_report(folder: Path, report: Mapping[str, Any]) -> None:
    (folder / REPORT).write_text(json.dumps(report, default=str))


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
    doomed = [p for i, p in enumerate(runs) if i >= keep or p.stat().st_mtime < cutoff]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return len(doomed)


def prune_all(data_dir: Path, settings: Mapping[str, Any]) -> int:
    """Prune every workspace's runs (at start-up)."""
    root = Path(data_dir) / "dry-runs"
    if not root.is_dir():
        return 0
    return sum(prune(data_dir, p.name, settings) for p in root.iterdir() if p.is_dir())


def artifact(
    data_dir: Path, workspace_id: str, run_id: str, name: str, settings
) -> Path:
    """The path of a run's output or report in this workspace; not found when the
    run is unknown, another workspace's, expired, or produced no such file."""
    if not _RUN_ID.fullmatch(run_id or ""):
        raise NotFound(f"Dry run {run_id!r} not found.")
    folder = workspace_dir(data_dir, workspace_id) / run_id
    if folder.is_dir() and folder.stat().st_mtime < time.time() - _max_age(settings):
        shutil.rmtree(folder, ignore_errors=True)
    path = folder / name
    if not path.is_file():
        what = "workbook" if name == OUTPUT else "report"
        raise NotFound(
            f"Dry run {run_id!r} has no {what} (unknown, expired or it failed)."
        )
    return path
