"""``draft:plan``: what a run of the draft would do, without running any of it.

``phases`` is the fixed run order (SPEC §7); ``dag`` the enabled columns in the order
``prepare`` runs them; ``warnings`` what publishing would reject but a dry-run
tolerates (guardrail and manifest findings); ``errors`` what stops a dry-run outright
(no readable manifest, a ``depends_on`` cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.services.manifest import MANIFEST, load_snapshot, pinned_modules
from runner.context import PHASES
from runner.guardrails import check_files
from runner.manifest import CycleError, topo_order, validate_manifest

if TYPE_CHECKING:
    from app.services.files import Draft


def _manifest_finding(message: str, code: str = "manifest") -> dict:
    return {
        "source": "manifest",
        "path": MANIFEST,
        "line": None,
        "col": None,
        "code": code,
        "message": message,
    }


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


def _unused_column_scripts(manifest: Any, paths) -> list[str]:
    """``columns/*.py`` files no manifest column points at (a forgotten entry)."""
    columns = manifest.get("columns") if isinstance(manifest, Mapping) else None
    named = {
        col.get("path")
        for col in (columns if isinstance(columns, list) else [])
        if isinstance(col, Mapping)
    }
    return sorted(
        p
        for p in paths
        if p.startswith("columns/") and p.endswith(".py") and p not in named
    )


def _dag(columns: list[dict]) -> list[dict]:
    return [
        {
            "key": col["key"],
            "label": col.get("label") if isinstance(col.get("label"), str) else None,
            "path": col.get("path") if isinstance(col.get("path"), str) else None,
            "ordinal": col.get("ordinal") if type(col.get("ordinal")) is int else None,
            "depends_on": list(col["depends_on"]),
        }
        for col in topo_order(columns)
    ]


def plan(draft: Draft) -> dict:
    """The plan of the draft at its current tip."""
    repo = draft.repo
    tip = repo.resolve("draft")
    snapshot = load_snapshot(repo, tip, strict=False)
    warnings: list[dict] = []
    errors: list[dict] = []
    dag: list[dict] = []
    if snapshot.file is None:
        errors.append(_manifest_finding("manifest.json is missing", "missing"))
    elif snapshot.manifest is None:
        errors.append(_manifest_finding("manifest.json is not valid JSON", "json"))
    else:
        problems = validate_manifest(snapshot.manifest, set(snapshot.paths))
        try:
            dag = _dag(_enabled_columns(snapshot.manifest))
        except CycleError as exc:
            errors.append(_manifest_finding(str(exc), "cycle"))
            problems = [p for p in problems if "depends_on cycle" not in p]
        warnings += [_manifest_finding(p) for p in problems]
        warnings += [
            _manifest_finding(
                f"{path} is not named by any column of the manifest; it never runs",
                "unused_column_script",
            )
            for path in _unused_column_scripts(snapshot.manifest, snapshot.paths)
        ]
    scripts = {
        path: repo.read_file(path, tip).data
        for path in snapshot.paths
        if path.endswith(".py")
    }
    warnings += [
        {"source": "guardrail", **finding.to_dict()}
        for finding in check_files(
            scripts, extra_modules=pinned_modules(snapshot.manifest)
        )
    ]
    return {"phases": list(PHASES), "dag": dag, "warnings": warnings, "errors": errors}
