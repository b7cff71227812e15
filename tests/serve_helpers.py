"""Run ``ade serve`` as a real subprocess (its own process group) for tests that
need a live server: the crash test and the cURL script."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.sandbox_helpers import POOL_SIZE
from tests.waits import WaitTimeout, wait_for

ADE = str(Path(sys.executable).with_name("ade"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ade_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env.update(
        ADE_DATA_DIR=str(data_dir),
        ADE_LOG_LEVEL="WARNING",
        ADE_LOG_FORMAT="text",
        ADE_SANDBOX_POOL_SIZE=str(POOL_SIZE),
        **extra,
    )
    return env


def ade_init(env: dict[str, str]) -> str:
    """Migrate and return a new instance-admin secret."""
    out = subprocess.run(
        [ADE, "init"], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


class Server:
    """``ade serve --workers 1`` on a free port; ``kill()`` SIGKILLs its group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.base = ""

    def start(self, timeout: float = 90.0) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [ADE, "serve", "--port", str(port), "--workers", "1"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: kill() takes the workers
            )

        def healthy() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ade serve exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        try:
            wait_for(
                healthy,
                timeout,
                what=f"ade serve to answer {self.base}/healthz",
                last=lambda: self.log.read_text()[-2000:],
            )
        except WaitTimeout:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None


class Dead(Exception):
    """The server went away during the request."""


def call(base: str, method: str, path: str, token: str, body=None, headers=None):
    """One JSON request with urllib: ``(status, json or None, headers)``; raises
    ``Dead`` when the connection breaks (the server was killed)."""
    import http.client
    import json
    import urllib.error

    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw, status, hdrs = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as err:
        raw, status, hdrs = err.read(), err.code, err.headers
    except (OSError, http.client.HTTPException) as exc:
        raise Dead(str(exc)) from exc
    return status, (json.loads(raw) if raw else None), hdrs
