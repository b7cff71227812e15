"""The one place jobs call the sandbox, and the limits they run under.

``runner.sandbox.run_sandboxed`` may grow (more limits, other isolation): every job
executor, in-process or a stateless worker, goes through ``run_job_sandbox``, and
the limits of a job (and so what a finish may upload) come from ``job_limits``
(``app.services.jobs``, re-exported here).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from app.services.jobs import job_limits
from runner.sandbox import Limits, SandboxResult, run_sandboxed

__all__ = ["job_limits", "run_job_sandbox"]


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
