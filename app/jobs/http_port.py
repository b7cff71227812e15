"""The job port of a stateless worker: everything through the API and git.

The worker holds no database and no data dir. It claims through the API, fetches
the job's tag from the config's smart-HTTP URL with its token (one shallow fetch of
one tag) into a cache keyed by ``files_hash``, downloads the document into a cache
keyed by sha256, beats, and finishes with one multipart upload.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app import metrics
from app.jobs.api_client import ApiClient, ApiError
from app.jobs.cache import DirCache
from app.jobs.execute import Inputs, Outcome
from app.services.claims import Lease
from repos.maintenance import find_git, git_env
from repos.repo import ConfigRepo

log = logging.getLogger(__name__)
API = "/api/v1/worker/jobs"
FILES = {"output.xlsx": "output", "report.json": "report", "logs.txt": "logs"}
GIT_TIMEOUT = 300.0
FINISH_TRIES = 3


def _private_dir(path: Path) -> Path:
    """The cache root, ours alone: config trees run as code, so a directory that
    others could write to would let them plant a "cached" version."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = path.stat()
    if info.st_uid != os.geteuid():
        raise PermissionError(
            f"{path} belongs to another user; use a cache dir of our own"
        )
    if info.st_mode & 0o077:
        path.chmod(0o700)
    return path


class FetchError(RuntimeError):
    """The config version could not be fetched or is not what was claimed."""


@dataclass(frozen=True)
class WorkerSettings:
    api_url: str
    token: str
    worker_name: str
    cache_dir: Path
    config_cache_bytes: int
    document_cache_bytes: int


class HttpPort:
    def __init__(self, settings: WorkerSettings, client: ApiClient | None = None):
        self.settings = settings
        self.client = client or ApiClient(settings.api_url, settings.token)
        root = _private_dir(settings.cache_dir)
        self.configs = DirCache(root / "configs", settings.config_cache_bytes, "config")
        self.documents = DirCache(
            root / "documents", settings.document_cache_bytes, "document"
        )
        self.git, self.home = find_git(), root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self._claims: dict[str, dict] = {}
        self._lock = threading.Lock()

    def claim(self, job_id: str) -> Lease | None:
        try:
            with metrics.timed("claim"):
                claimed = self.client.json(
                    "POST",
                    f"{API}/{job_id}:claim",
                    {"worker": self.settings.worker_name},
                )
        except ApiError as exc:
            if exc.status in (404, 409):
                return None  # gone, or another worker has it: a duplicate wake-up
            raise
        with self._lock:
            self._claims[claimed["claim_id"]] = claimed
        return Lease(job_id, claimed["claim_id"], claimed["attempt"])

    def scratch(self) -> None:
        return None

    def prepare(self, lease: Lease, workdir: Path) -> Inputs:
        claimed = self._claims[lease.claim_id]
        files_hash, sha256 = claimed["files_hash"], claimed["document_sha256"]
        config = self.configs.get(files_hash, lambda dest: self._fetch(claimed, dest))
        claimed["pinned"] = [(self.configs, files_hash)]
        document = self.documents.get(
            sha256, lambda dest: self._download(lease.job_id, sha256, dest)
        )
        claimed["pinned"].append((self.documents, sha256))
        return Inputs(config, document, claimed.get("flags") or {})

    def _fetch(self, claimed: dict, dest: Path) -> None:
        """One shallow fetch of the claimed tag into a throw-away bare repo, then
        its files (checked against ``files_hash``) written to ``dest``."""
        tag = claimed["tag"]
        repo = dest.with_name(dest.name + ".git")
        env = git_env(str(self.home))
        # The token travels in the environment, never on a command line others see.
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: Bearer {self.settings.token}",
        )
        url = self.settings.api_url.rstrip("/") + claimed["git_path"]
        refspec = f"+refs/tags/{tag}:refs/tags/{tag}"
        with metrics.timed("git_fetch"):
            for args in (
                ["init", "--quiet", "--bare", str(repo)],
                [
                    "-C",
                    str(repo),
                    "fetch",
                    "--quiet",
                    "--depth=1",
                    "--no-tags",
                    url,
                    refspec,
                ],
            ):
                proc = subprocess.run(
                    [self.git, *args],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=GIT_TIMEOUT,
                    check=False,
                )
                if proc.returncode != 0:
                    shutil.rmtree(repo, ignore_errors=True)
                    raise FetchError(
                        f"git {args[2] if args[0] == '-C' else args[0]} "
                        f"failed: {proc.stderr.strip()[-500:]}"
                    )
        metrics.m().git_fetches.inc()
        try:
            fetched = ConfigRepo(repo)
            if fetched.tree_id(tag) != claimed["files_hash"]:
                raise FetchError(f"{tag} is not the tree the job was claimed with")
            fetched.export(tag, dest)
            fetched.close()
        finally:
            shutil.rmtree(repo, ignore_errors=True)

    def _download(self, job_id: str, sha256: str, dest: Path) -> None:
        with metrics.timed("document"):
            size = self.client.download(
                f"{API}/{job_id}/documents/{sha256}", dest, sha256
            )
        metrics.m().downloaded.labels("document").inc(size)

    def beat(self, lease: Lease, progress: dict | None) -> bool:
        with metrics.timed("heartbeat"):
            answer = self.client.json(
                "POST",
                f"{API}/{lease.job_id}:heartbeat",
                {"claim_id": lease.claim_id, "progress": progress},
            )
        return bool(answer.get("keep_running"))

    def finish(self, lease: Lease, outcome: Outcome, artifacts: Path | None) -> bool:
        try:
            return self._finish(lease, outcome, artifacts)
        finally:
            self._release(lease)

    def _finish(self, lease: Lease, outcome: Outcome, artifacts: Path | None) -> bool:
        result = {
            "status": outcome.status,
            "error": outcome.error,
            "metrics": outcome.metrics,
            "progress": outcome.progress,
        }
        files = {}
        if artifacts is not None:
            files = {
                field: artifacts / name
                for name, field in FILES.items()
                if (artifacts / name).is_file()
            }
        fields = {"claim_id": lease.claim_id, "result": json.dumps(result)}
        for attempt in range(FINISH_TRIES):
            try:
                with metrics.timed("finish"):
                    self.client.multipart(f"{API}/{lease.job_id}:finish", fields, files)
                return True
            except ApiError as exc:
                if exc.status == 409:
                    log.warning("job %s: %s", lease.job_id, exc)
                    return False
                if exc.status < 500 or attempt == FINISH_TRIES - 1:
                    raise
            except OSError:
                if attempt == FINISH_TRIES - 1:
                    raise
            time.sleep(2**attempt)  # the API may be restarting
        return False

    def give_back(self, lease: Lease) -> bool:
        # Celery's warm shutdown lets a running job finish, so a stateless worker
        # never stops mid-run of its own accord; a killed one is reaped.
        return False

    def _release(self, lease: Lease) -> None:
        with self._lock:
            claimed = self._claims.pop(lease.claim_id, None)
        for cache, key in (claimed or {}).get("pinned", []):
            cache.release(key)
