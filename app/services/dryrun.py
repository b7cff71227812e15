"""Dry-run: the draft tree on one document, in the sandbox, off the request thread.

A dry run holds a slot of its token and of its workspace (``dryrun_slots``: past
``DRY_RUN_PER_TOKEN`` / ``DRY_RUN_PER_WORKSPACE`` runs in flight on this host it is
refused with ``TooMany``) and runs on the process's dry-run pool (``dryrun_pool``),
never on the thread serving the request. The request waits up to
``DRY_RUN_SYNC_SECONDS`` for the report, which is the answer of a short run as it
always was; a longer run answers with its status, and ``run_status`` (from any
process: the state is in the run's folder) follows it to the same report.

The run writes its normalized workbook like a job does; the workbook and the report
are kept for a while (``app.services.dryrun_store``) so the editor can offer them as
downloads. The report's ``preview`` (the first output rows) comes from the sandboxed
worker: the service never opens a workbook that config code wrote.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from app.models import FAILED, SUCCEEDED, Config, Workspace
from app.services import dryrun_slots, dryrun_store
from app.services.configs import open_repo
from app.services.context import Context
from app.services.documents import document_path, get_document
from app.services.dryrun_slots import Slots
from runner.sandbox import Limits, SandboxResult, run_sandboxed

QUEUED, RUNNING = "queued", "running"
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


def _base(workspace_slug: str, run_id: str) -> str:
    return f"/api/v1/workspaces/{workspace_slug}/dry-runs/{run_id}"


def status_url(workspace: Workspace, run_id: str) -> str:
    """Where a run's status (and, once done, its report) is polled."""
    return _base(workspace.slug, run_id)


def _finished(folder: Path, workspace_slug: str, run_id: str, answer: dict) -> dict:
    base = _base(workspace_slug, run_id)
    has_output = (
        answer.get("status") == SUCCEEDED and (folder / "output.xlsx").is_file()
    )
    return {
        "id": run_id,
        "downloads": {
            "output": f"{base}/output" if has_output else None,
            "report": f"{base}/report",
        },
        **answer,
    }


def _failed(error: str, elapsed_ms: int = 0) -> dict:
    return {
        "status": FAILED,
        "error": error,
        "tables": [],
        "findings": [],
        "logs": [],
        "metrics": dict(EMPTY_METRICS, elapsed_ms=elapsed_ms),
    }


def _answer_of(result: SandboxResult) -> dict:
    report = result.report or {
        "tables": [],
        "findings": [],
        "logs": [],
        "metrics": dict(EMPTY_METRICS, elapsed_ms=result.elapsed_ms),
    }
    if not report.get("logs") and result.logs:
        report = {**report, "logs": result.logs}
    return {
        "status": SUCCEEDED if result.ok else FAILED,
        "error": result.error,
        **report,
    }


class DryRunTask:
    """One dry run, as the pool holds it: its folder, what it runs, its slots."""

    def __init__(
        self,
        run_id: str,
        folder: Path,
        workspace_slug: str,
        staged: Path,
        document: Path,
        limits: Limits,
        sample_rows: int | None,
        slots: Slots,
    ) -> None:
        self.run_id, self.folder, self.workspace_slug = run_id, folder, workspace_slug
        self.staged, self.document = staged, document
        self.limits, self.sample_rows, self.slots = limits, sample_rows, slots
        self.done, self.cancel = threading.Event(), threading.Event()
        self.answer: dict | None = None
        self.status, self.progress = QUEUED, None
        self._queued_at, self._started = time.time(), 0.0
        dryrun_store.save_state(folder, QUEUED, queued_at=self._queued_at)

    def run(self) -> None:
        self.status, self._started = RUNNING, time.time()
        self.heartbeat()
        try:
            result = run_sandboxed(
                self.staged / "config",
                self.document,
                self.folder / dryrun_store.OUTPUT,
                limits=self.limits,
                sample_rows=self.sample_rows,
                on_progress=self._on_progress,
                cancel=self.cancel,
            )
            if self.cancel.is_set() and not result.ok:
                result = SandboxResult.failed("the service stopped during the dry run")
            self._finish(_answer_of(result))
        finally:
            self._close()

    def _on_progress(self, phase: str, rows: int) -> None:
        # Called for every progress message: kept here, written by the heartbeat.
        self.progress = {"phase": phase, "rows": rows}

    def heartbeat(self) -> None:
        """Write the state (status, latest progress): it stamps the run as live."""
        if not self.done.is_set():
            times = {"queued_at": self._queued_at}
            if self.status == RUNNING:  # a queued run has no deadline yet
                times["started_at"] = self._started
                times["deadline"] = self._started + self.limits.wall_seconds
            dryrun_store.save_state(
                self.folder, self.status, progress=self.progress, **times
            )

    def abandon(self, error: str) -> None:
        try:
            self._finish(_failed(error))
        finally:
            self._close()

    def _finish(self, answer: dict) -> None:
        if answer["status"] != SUCCEEDED:
            (self.folder / dryrun_store.OUTPUT).unlink(missing_ok=True)
        dryrun_store.save_report(self.folder, answer)
        self.answer = _finished(self.folder, self.workspace_slug, self.run_id, answer)

    def _close(self) -> None:
        shutil.rmtree(self.staged, ignore_errors=True)
        self.slots.release()
        self.done.set()

    def state(self) -> dict:
        """What a poll would answer now."""
        if self.answer is not None:
            return self.answer
        return {"id": self.run_id, "status": self.status, "progress": self.progress}


def dry_run(
    ctx: Context,
    workspace: Workspace,
    config: Config,
    document_id: str,
    sample_rows: int | None,
) -> dict:
    """Start a dry run of the draft; a failing script is a report with ``status:
    failed``. The answer is the report when the run finished within
    ``DRY_RUN_SYNC_SECONDS``: it names the run (``id``) and where its workbook and
    report can be downloaded (``downloads``; ``output`` is None when the run wrote
    none). Otherwise it is the run's status (``queued`` or ``running``, with its
    ``progress``), to follow with ``run_status``."""
    settings = ctx.settings
    document = get_document(ctx, workspace, document_id)
    slots = dryrun_slots.take(
        ctx.data_dir,
        token_id=ctx.caller().token_id,
        workspace_id=workspace.id,
        per_token=settings["DRY_RUN_PER_TOKEN"],
        per_workspace=settings["DRY_RUN_PER_WORKSPACE"],
        retry_after=max(1, settings["DRY_RUN_SYNC_SECONDS"]),
    )
    staged, folder = Path(tempfile.mkdtemp(prefix="ade-dry-run-")), None
    try:
        open_repo(ctx, config).export("draft", staged / "config")
        run_id, folder = dryrun_store.new_run(ctx.data_dir, workspace.id, settings)
        task = DryRunTask(
            run_id,
            folder,
            workspace.slug,
            staged,
            document_path(ctx, document),
            dry_run_limits(settings),
            sample_rows,
            slots,
        )
        ctx.dry_runs.submit(task)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        if folder is not None:  # a refused run leaves no folder behind
            shutil.rmtree(folder, ignore_errors=True)
        slots.release()
        raise
    ctx.dry_runs.wait(task, settings["DRY_RUN_SYNC_SECONDS"])
    return task.state()


def run_status(ctx: Context, workspace: Workspace, run_id: str) -> dict:
    """A run's status (``queued``/``running`` with its progress) or, once it has
    finished, the answer its POST would have given. A run whose process went away
    is failed (for good: its report is written)."""
    folder = dryrun_store.run_folder(ctx.data_dir, workspace.id, run_id, ctx.settings)
    report = dryrun_store.load_report(folder)
    if report is None:
        loaded = dryrun_store.load_state(folder)
        if loaded is not None and not dryrun_store.is_stale(*loaded):
            state = loaded[0]
            return {
                "id": run_id,
                "status": state.get("status", QUEUED),
                "progress": state.get("progress"),
            }
        dryrun_store.save_report(
            folder, _failed("the process running the dry run went away")
        )
        report = dryrun_store.load_report(folder)
    return _finished(folder, workspace.slug, run_id, report)


def is_finished(answer: dict) -> bool:
    return answer.get("status") not in (QUEUED, RUNNING)


def run_artifact(ctx: Context, workspace: Workspace, run_id: str, name: str) -> Path:
    """A dry run's workbook or report, for the workspace that ran it."""
    return dryrun_store.artifact(ctx.data_dir, workspace.id, run_id, name, ctx.settings)
