"""Dry-run: the draft tree on one document, in the sandbox, answered synchronously.

The run writes its normalized workbook like a job does; the workbook and the report
are kept for a while (``app.services.dryrun_store``) so the editor can offer them as
downloads. The report's ``preview`` (the first output rows) comes from the sandboxed
worker: the service never opens a workbook that config code wrote.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.models import FAILED, SUCCEEDED, Config, Workspace
from app.services import dryrun_store
from app.services.configs import open_repo
from app.services.context import Context
from app.services.documents import document_path, get_document
from runner.sandbox import Limits, run_sandboxed

EMPTY_METRICS = {
    "sheets_scanned": 0,
    "tables_found": 0,
    "rows_processed": 0,
    "columns_mapped": 0,
    "issues": 0,
    "elapsed_ms": 0,
}


def dry_run_limits(settings) -> Limits:
    """A dry run's limits: ``DRY_RUN_WALL_SECONDS`` of wall and CPU time."""
    return Limits(
        cpu_seconds=settings["DRY_RUN_WALL_SECONDS"],
        wall_seconds=settings["DRY_RUN_WALL_SECONDS"],
        memory_bytes=settings["SANDBOX_MEMORY_BYTES"],
        report_bytes=settings["SANDBOX_REPORT_BYTES"],
    )


def dry_run(
    ctx: Context,
    workspace: Workspace,
    config: Config,
    document_id: str,
    sample_rows: int | None,
) -> dict:
    """Run the draft; a failing script is a report with ``status: failed``. The
    answer names the run (``id``) and where its workbook and report can be
    downloaded (``downloads``; ``output`` is None when the run wrote none)."""
    document = get_document(ctx, workspace, document_id)
    run_id, folder = dryrun_store.new_run(ctx.data_dir, workspace.id, ctx.settings)
    output = folder / dryrun_store.OUTPUT
    with tempfile.TemporaryDirectory(prefix="ade-dry-run-") as tmp:
        config_dir = Path(tmp) / "config"
        open_repo(ctx, config).export("draft", config_dir)
        result = run_sandboxed(
            config_dir,
            document_path(ctx, document),
            output,
            limits=dry_run_limits(ctx.settings),
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
    answer = {
        "status": SUCCEEDED if result.ok else FAILED,
        "error": result.error,
        **report,
    }
    dryrun_store.save_report(folder, answer)
    base = f"/api/v1/workspaces/{workspace.slug}/dry-runs/{run_id}"
    has_output = result.ok and output.is_file()
    if not has_output:
        output.unlink(missing_ok=True)
    return {
        "id": run_id,
        "downloads": {
            "output": f"{base}/output" if has_output else None,
            "report": f"{base}/report",
        },
        **answer,
    }


def run_artifact(ctx: Context, workspace: Workspace, run_id: str, name: str) -> Path:
    """A dry run's workbook or report, for the workspace that ran it."""
    return dryrun_store.artifact(ctx.data_dir, workspace.id, run_id, name, ctx.settings)
