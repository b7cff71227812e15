"""Dry-run: the draft tree on one document, in the sandbox, answered synchronously."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import current_app

from app.db import get_session
from app.models import Config, Workspace
from app.services.documents import blob_path, get_document
from app.services.store import open_repo
from runner.sandbox import Limits, run_sandboxed

EMPTY_METRICS = {
    "sheets_scanned": 0,
    "tables_found": 0,
    "rows_processed": 0,
    "columns_mapped": 0,
    "issues": 0,
    "elapsed_ms": 0,
}


def dry_run(
    workspace: Workspace, config: Config, document_id: str, sample_rows: int | None
) -> dict:
    """Run the draft; a failing script is a report with ``status: failed``."""
    cfg = current_app.config
    document = get_document(get_session(), workspace, document_id)
    limits = Limits(
        cpu_seconds=cfg["DRY_RUN_WALL_SECONDS"],
        wall_seconds=cfg["DRY_RUN_WALL_SECONDS"],
        memory_bytes=cfg["SANDBOX_MEMORY_BYTES"],
    )
    with tempfile.TemporaryDirectory(prefix="ade-dry-run-") as tmp:
        config_dir = Path(tmp) / "config"
        open_repo(config).export("draft", config_dir)
        result = run_sandboxed(
            config_dir,
            blob_path(cfg["DATA_DIR"], document.sha256),
            None,
            limits=limits,
            sample_rows=sample_rows,
        )
    report = result.report or {
        "tables": [],
        "findings": [],
        "logs": [],
        "metrics": dict(EMPTY_METRICS, elapsed_ms=result.elapsed_ms),
    }
    if not report.get("logs") and result.logs:
        report = {**report, "logs": result.logs}
    return {
        "status": "succeeded" if result.ok else "failed",
        "error": result.error,
        **report,
    }
