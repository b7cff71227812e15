"""The one place jobs call the sandbox, and the limits they run under.

``runner.sandbox.run_sandboxed`` may grow (more limits, other isolation): every job
executor, in-process or a stateless worker, goes through ``run_job_sandbox``, and
the limits of a job (and so what a finish may upload) come from ``job_limits``
(``app.services.jobs``, re-exported here).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from app.services.jobs import job_limits
from runner.sandbox import Limits, SandboxResult, run_sandboxed
from runner.sandbox.pool import configure_pool

__all__ = ["job_limits", "run_job_sandbox", "start_sandbox_pool"]


def start_sandbox_pool(settings: Mapping[str, Any]) -> None:
    """Keep warm sandbox workers in this process, as the settings say (every
    ``run_sandboxed`` of the process takes from it: jobs and dry runs). Call it in
    the process that runs the sandboxes: in a gunicorn worker after the fork, not
    in the master (a fork does not carry a pool over)."""
    configure_pool(settings["SANDBOX_POOL_SIZE"], settings["SANDBOX_POOL_IDLE_SECONDS"])


def run_job_sandbox(
    config_dir: Path,
    document_path: Path,
    output_path: Path,
    limits: Limits,
    *,
    sample_rows: int | None,
    on_progress: Callable[[str, int], None],
    cancel: threading.Event,
) -> SandboxResult:
    """Run a job's config tree on its document in the sandbox."""
    return run_sandboxed(
        config_dir,
        document_path,
        output_path,
        limits=limits,
        sample_rows=sample_rows,
        on_progress=on_progress,
        cancel=cancel,
    )
