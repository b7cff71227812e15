"""What every service is given by its caller: who is calling, the session, the store,
the settings, and what wakes job workers.

The caller builds it: an API view from the request (``app.web``), the git endpoint
from its Basic credentials, a job runner or a CLI command from the app's settings.
Services read nothing else (no ``flask.request``, ``g`` or ``current_app``), so the
same function serves a request, a worker and a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.services.access import Principal
from repos.store import Store
from repos.types import Author


class Waker(Protocol):
    """Anything that can wake a job worker for a queued job (an executor)."""

    def submit(self, job_id: str) -> None: ...


class DryRuns(Protocol):
    """The process's dry-run pool (``app.services.dryrun_pool.DryRunPool``)."""

    def submit(self, task: Any) -> None: ...

    def wait(self, task: Any, seconds: float) -> bool: ...


@dataclass(frozen=True)
class Context:
    session: Session
    store: Store
    settings: Mapping[str, Any]
    principal: Principal | None = None
    executor: Waker | None = None
    dry_runs: DryRuns | None = None
    # The address the caller reached this service at (``https://ade.example``),
    # for links such as ``clone_url`` when ``ADE_BASE_URL`` is not set.
    base_url: str = ""

    @property
    def data_dir(self) -> Path:
        return self.settings["DATA_DIR"]

    def caller(self) -> Principal:
        """The principal; a service that needs one is never called without it."""
        if self.principal is None:
            raise RuntimeError("this service needs an authenticated caller")
        return self.principal

    def author(self) -> Author:
        """Commit author for the caller: its token name at the e-mail domain."""
        return author_for(self.caller(), self.settings["GIT_EMAIL_DOMAIN"])


def author_for(principal: Principal, domain: str) -> Author:
    """A token's name at ``domain`` (characters e-mail cannot take become ``-``)."""
    local = "".join(c if c.isalnum() or c in "._-" else "-" for c in principal.name)
    return Author(name=principal.name, email=f"{local or 'token'}@{domain}")


def make_store(settings: Mapping[str, Any]) -> Store:
    """The git store the settings describe (one per app or worker process)."""
    return Store(
        settings["DATA_DIR"] / "repos",
        max_file_bytes=settings["MAX_FILE_BYTES"],
        max_files=settings["MAX_FILES"],
    )
