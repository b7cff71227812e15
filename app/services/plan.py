"""``draft:plan``: what a run of the draft would do, without running any of it.

``phases`` is the fixed run order (SPEC §7); ``dag`` the enabled columns in the order
``prepare`` runs them; ``warnings`` what publishing would reject but a dry-run
tolerates, and what never blocks (the package check's non-fatal problems);
``errors`` what stops a dry-run outright (its fatal ones: no readable manifest, a
``depends_on`` cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.services.draft import Draft
from runner.checks import check_package
from runner.context import PHASES
from runner.manifest import CycleError, topo_order


def _enabled_columns(manifest: Any) -> list[dict]:
    """Well-formed, enabled column entries (the rest is reported as warnings)."""
    columns = manifest.get("columns") if isinstance(manifest, Mapping) else None
    out = []
    for col in columns if isinstance(columns, list) else []:
        if not isinstance(col, Mapping) or not isinstance(col.get("key"), str):
            continue
        if col.get("enabled", True) is False:
            continue
        deps = col.get("depends_on")
        ok = isinstance(deps, list) and all(isinstance(d, str) for d in deps)
        out.append({**col, "depends_on": deps if ok else []})
    return out


def _dag(manifest: Any) -> list[dict]:
    try:
        ordered = topo_order(_enabled_columns(manifest))
    except CycleError:  # reported by the package check
        return []
    return [
        {
            "key": col["key"],
            "label": col.get("label") if isinstance(col.get("label"), str) else None,
            "path": col.get("path") if isinstance(col.get("path"), str) else None,
            "ordinal": col.get("ordinal") if type(col.get("ordinal")) is int else None,
            "depends_on": list(col["depends_on"]),
        }
        for col in ordered
    ]


def plan(draft: Draft) -> dict:
    """The plan of the draft at its current tip."""
    repo = draft.repo
    tip = repo.resolve("draft")
    paths = [e.path for e in repo.list_files(tip)]
    files = {
        p: repo.read_file(p, tip).data
        for p in paths
        if p.endswith(".py") or p == "manifest.json"
    }
    check = check_package(files, paths=paths)
    return {
        "phases": list(PHASES),
        "dag": _dag(check.manifest),
        "warnings": [p.to_dict() for p in check.problems if not p.fatal],
        "errors": [p.to_dict() for p in check.fatal],
    }
