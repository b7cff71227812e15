"""The job port of executors that hold the database and the data dir themselves:
the embedded executor and shared-disk Celery workers."""

from __future__ import annotations

from pathlib import Path

from app.jobs.execute import Inputs, Outcome
from app.jobs.runtime import JobRuntime
from app.services import claims
from app.services.claims import Lease
from app.services.jobs import inputs_of, install_artifacts


class DirectPort:
    def __init__(self, rt: JobRuntime):
        self.rt = rt

    def claim(self, job_id: str) -> Lease | None:
        with self.rt.sessions() as s:
            return claims.claim(s, job_id, self.rt.worker_name)

    def next_queued(self) -> Lease | None:
        """Claim the oldest runnable queued job, or return None."""
        with self.rt.sessions() as s:
            ids = claims.runnable_ids(s)
        for job_id in ids:
            lease = self.claim(job_id)
            if lease is not None:
                return lease
        return None

    def scratch(self) -> Path:
        # On the data dir's file system, so artifacts are installed by rename.
        path = self.rt.data_dir / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def prepare(self, lease: Lease, workdir: Path) -> Inputs:
        with self.rt.sessions() as s:
            inputs = inputs_of(self.rt.context(s), lease.job_id)
        config_dir = workdir / "config"
        # Always the tag's files: the draft may have moved since publishing.
        repo = self.rt.store.open(inputs.workspace_id, inputs.config_id)
        repo.export(inputs.tag, config_dir)
        return Inputs(config_dir, inputs.document_path, inputs.flags)

    def beat(self, lease: Lease, progress: dict | None) -> bool:
        with self.rt.sessions() as s:
            return claims.beat(s, lease, progress)

    def finish(self, lease: Lease, outcome: Outcome, artifacts: Path | None) -> bool:
        target = self.rt.job_dir(lease.job_id)

        def install() -> None:
            install_artifacts(artifacts, target)

        with self.rt.sessions() as s:
            return claims.finish(s, lease, outcome.values(), install)

    def give_back(self, lease: Lease) -> bool:
        with self.rt.sessions() as s:
            return claims.give_back(s, lease)
