"""The git command lines of the smart-HTTP endpoint, and the pre-receive hook.

git's own programs do the protocol work: ``upload-pack`` (clone, fetch; protocol v0
and v2) and ``receive-pack`` (push), with ``--stateless-rpc``. A push is judged inside
receive-pack's transaction by a ``pre-receive`` hook (``app.services.push``) found
through ``-c core.hooksPath``, so existing repos need no setup.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.services import push
from repos.maintenance import git_env
from repos.store import Store

_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class GitCommands:
    """Per-app: git's empty HOME, the hook directory, the fixed command parts."""

    home: Path
    hooks: Path
    git: str
    max_request_bytes: int

    @classmethod
    def install(cls, settings: Mapping[str, Any], store: Store) -> GitCommands:
        """Create git's HOME and the hook under the data dir (idempotent)."""
        base = settings["DATA_DIR"] / "git-http"
        home = base / "home"
        home.mkdir(parents=True, exist_ok=True)
        args = [
            "--max-file-bytes",
            str(settings["MAX_FILE_BYTES"]),
            "--max-files",
            str(settings["MAX_FILES"]),
            "--git",
            store.settings.git,
            "--guardrails",
            settings["GIT_PUSH_GUARDRAILS"],
        ]
        return cls(
            home=home,
            hooks=_install_hook(base, args),
            git=store.settings.git,
            max_request_bytes=settings["GIT_MAX_REQUEST_BYTES"],
        )

    def command(
        self,
        service: str,
        path: Path,
        *,
        advertise: bool = False,
        only_refs: tuple[str, ...] | None = None,
    ):
        """The argv of ``service`` (``git-upload-pack``/``git-receive-pack``).
        ``only_refs``: hide every ref but these (a worker's claimed tags); a want
        of anything else is refused, since only advertised tips may be fetched."""
        if service == "git-upload-pack":
            config = [("uploadpack.allowFilter", "true")]
            if only_refs is not None:
                config += [
                    ("uploadpack.hideRefs", "refs/"),
                    ("uploadpack.hideRefs", "HEAD"),
                    *(("uploadpack.hideRefs", f"!{ref}") for ref in only_refs),
                    ("uploadpack.allowTipSHA1InWant", "false"),
                    ("uploadpack.allowReachableSHA1InWant", "false"),
                    ("uploadpack.allowAnySHA1InWant", "false"),
                ]
        else:
            config = [
                ("core.hooksPath", str(self.hooks)),
                ("receive.fsckObjects", "true"),
                ("receive.denyDeletes", "true"),
                ("receive.denyNonFastForwards", "true"),
                ("receive.maxInputSize", str(self.max_request_bytes)),
                ("receive.advertisePushOptions", "false"),
                # No `git maintenance run --auto` inside the push request: the
                # store's housekeeping thread packs pushed objects afterwards.
                ("receive.autogc", "false"),
            ]
        cmd = [self.git]
        for key, value in config:
            cmd += ["-c", f"{key}={value}"]
        cmd += [service.removeprefix("git-"), "--stateless-rpc"]
        if advertise:
            cmd.append("--advertise-refs")
        return [*cmd, str(path)]

    def env(self, protocol: str) -> dict[str, str]:
        """git's environment: an empty HOME, the hook's import path, and the
        client's ``Git-Protocol`` (v2 only when asked for)."""
        env = git_env(str(self.home))
        env["PYTHONPATH"] = str(_ROOT)  # for the hook: repos/ and runner/
        if protocol:
            env["GIT_PROTOCOL"] = protocol
        return env


def _install_hook(base: Path, args: list[str]) -> Path:
    """Write ``pre-receive`` into a directory named after its content, so apps
    with other settings (or another Python) never share a stale hook."""
    script = "#!/bin/sh\nexec " + shlex.join(
        [sys.executable, "-P", push.__file__, *args]
    )
    script += "\n"
    hooks = base / ("hooks-" + hashlib.sha256(script.encode()).hexdigest()[:16])
    target = hooks / "pre-receive"
    if not target.is_file():
        hooks.mkdir(parents=True, exist_ok=True)
        tmp = hooks / f".pre-receive-{uuid.uuid4().hex}"
        tmp.write_text(script)
        tmp.chmod(0o755)
        os.replace(tmp, target)  # atomic: a concurrent push sees all or nothing
    return hooks
