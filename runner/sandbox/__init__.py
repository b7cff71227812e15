"""Run config code in a sandboxed worker process (SPEC §6).

The one entry point the CLI, the API's dry-run and the jobs call is ``run_sandboxed``;
``sandbox_capabilities()`` says what isolation this machine gives (log it once at
start-up). The parent never imports config code.
"""

from __future__ import annotations

from runner.sandbox.isolation import probe
from runner.sandbox.limits import Isolation, Limits
from runner.sandbox.result import SandboxResult
from runner.sandbox.supervisor import run_sandboxed

__all__ = [
    "Isolation",
    "Limits",
    "SandboxResult",
    "run_sandboxed",
    "sandbox_capabilities",
]


def sandbox_capabilities(isolation: Isolation = Isolation()) -> dict:
    """What the sandbox can enforce here, probed once per ``isolation``.

    ``mode`` is ``"isolated"`` (own uid, no network, rlimits) or ``"limits-only"``
    with ``reason`` saying why; the other keys detail the parts.
    """
    return dict(probe(isolation))
