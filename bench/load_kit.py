"""The plumbing of ``bench/load.py``: a checkout served by ``ade serve``, a keep-alive
HTTP client per thread, closed-loop client pools bounded in count and time, the
checks run on the repos after each step, and the profile of the workers.

The client is the standard library's ``http.client`` (one persistent connection per
client thread): on a 2-core machine the load generator shares the CPU with the
server it measures, and it is the lightest client at hand (no new dependency).
Every address is 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pygit2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from repos.housekeeping import gc_lock  # noqa: E402

HOST = "127.0.0.1"
_RUN_ADE = "import sys; from app.cli import main; sys.argv[0] = 'ade'; main()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def add_worktree(repo_root: Path, ref: str, dest: Path) -> Path:
    """A detached ``git worktree`` of ``ref`` at ``dest`` (the baseline)."""
    subprocess.run(
        ["git", "-C", str(repo_root), "worktree", "add", "--detach", str(dest), ref],
        check=True,
        capture_output=True,
    )
    return dest


def remove_worktree(repo_root: Path, dest: Path) -> None:
    subprocess.run(
        ["git", "-C", str(repo_root), "worktree", "remove", "--force", str(dest)],
        check=False,
        capture_output=True,
    )


class Server:
    """``ade serve`` of one checkout (its own ``app`` package first on the path),
    with its own data dir, in its own process group."""

    def __init__(self, name: str, checkout: Path, run_dir: Path, workers: int = 2):
        self.name, self.checkout, self.workers = name, checkout, workers
        self.data_dir = run_dir / f"data-{name}"
        self.log = run_dir / f"serve-{name}.log"
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
        self.env.update(
            PYTHONPATH=str(checkout),
            ADE_DATA_DIR=str(self.data_dir),
            ADE_LOG_LEVEL="WARNING",
            ADE_LOG_FORMAT="text",
        )

    def _ade(self, *args: str) -> list[str]:
        return [sys.executable, "-c", _RUN_ADE, *args]

    def init(self) -> str:
        """Migrate and return an instance-admin secret."""
        out = subprocess.run(
            self._ade("init"),
            env=self.env,
            cwd=self.checkout,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def start(self, threads: int = 4, timeout: float = 120.0) -> None:
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self._ade(*args, "--threads", str(threads)),
                env=self.env,
                cwd=self.checkout,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: ade serve exited, see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as r:
                    if r.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name}: not healthy in {timeout} s")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True
        )
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        self.proc = None

    def log_errors(self) -> list[str]:
        """Tracebacks and ERROR lines the server logged."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [
            line
            for line in text.splitlines()
            if "Traceback" in line or " ERROR " in line or "[ERROR]" in line
        ]

    def repo_path(self, ws_id: str, config_id: str) -> Path:
        return self.data_dir / "repos" / ws_id / f"{config_id}.git"


class Client:
    """One keep-alive connection; ``call`` returns (status, json, headers, secs)."""

    def __init__(self, base: str, token: str):
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port, self.token = host, int(port), token
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"Authorization": f"Bearer {self.token}"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in (0, 1):  # a keep-alive connection the server closed: redial
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    return 599, None, {}, time.perf_counter() - start
                continue
            secs = time.perf_counter() - start
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            parsed = json.loads(raw) if raw and raw[:1] in b"{[" else None
            return resp.status, parsed, dict(resp.getheaders()), secs
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@dataclass
class StepResult:
    """Latencies and statuses of one step, plus what the checks need."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    saves: list[tuple[str, str, str]] = field(default_factory=list)  # commit, path, sha
    puts: Counter = field(default_factory=Counter)  # status -> PUTs answered so
    extra: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, secs: float, method: str = "GET") -> None:
        with self.lock:
            self.latencies.append(secs)
            self.statuses[status] += 1
            if method == "PUT":
                self.puts[status] += 1

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def run_pool(
    clients: int,
    body: Callable[[int, Callable[[], bool]], None],
    *,
    max_ops: int,
    max_seconds: float,
    counter: Callable[[], int],
) -> float:
    """Run ``body(i, go)`` in ``clients`` threads; ``go()`` is false once
    ``counter()`` reached ``max_ops`` or ``max_seconds`` passed. Returns the wall
    time."""
    deadline = time.monotonic() + max_seconds

    def go() -> bool:
        return time.monotonic() < deadline and counter() < max_ops

    threads = [
        threading.Thread(target=body, args=(i, go), daemon=True) for i in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + 120)
    return time.perf_counter() - start


def verify_repo(path: Path, saves: list[tuple[str, str, str]]) -> list[str]:
    """Problems found: a 200 save whose commit is not on the draft's first-parent
    chain or whose file is not the blob answered, a merge on the draft, and
    whatever ``git fsck --strict`` says."""
    # Under git's gc lock, as an operator would check a live repository: the
    # server's housekeeping must not repack in the middle of fsck.
    with gc_lock(path, wait=300) as held:
        if not held:
            return ["the gc lock stayed taken for 5 minutes"]
        return _verify(path, saves)


def _verify(path: Path, saves: list[tuple[str, str, str]]) -> list[str]:
    problems: list[str] = []
    repo = pygit2.Repository(str(path))
    chain: set[str] = set()
    commit = repo.references["refs/heads/draft"].peel(pygit2.Commit)
    while True:
        chain.add(str(commit.id))
        if len(commit.parents) > 1:
            problems.append(f"merge commit {commit.id} on the draft")
        if not commit.parents:
            break
        commit = commit.parents[0]
    for sha, path_in_tree, blob in saves:
        if sha not in chain:
            problems.append(f"saved commit {sha} is not on the draft")
            continue
        try:
            entry = repo[sha].peel(pygit2.Commit).tree[path_in_tree]
        except KeyError:
            problems.append(f"{path_in_tree} missing in saved commit {sha}")
            continue
        if str(entry.id) != blob:
            problems.append(f"{path_in_tree} at {sha[:10]} is not blob {blob[:10]}")
    fsck = subprocess.run(
        ["git", "--git-dir", str(path), "fsck", "--strict", "--no-progress"],
        capture_output=True,
        text=True,
    )
    if fsck.returncode != 0:
        problems.append(f"git fsck --strict: {fsck.stdout[-500:]}{fsck.stderr[-500:]}")
    repo.free()
    return problems


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """Start py-spy (if installed) on ``pid`` and its children, sampling threads
    that hold the GIL (CPU in Python and in C it calls); None without py-spy."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    cmd = [spy, "record", "--pid", str(pid), "--subprocesses", "--function", "--gil"]
    cmd += ["--rate", "250", "--duration", str(int(seconds)), "--format", "raw"]
    cmd += ["--output", str(out), "--nonblocking"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_top(raw: Path, top: int = 14) -> list[str]:
    """The functions most often on the stack of a request (inclusive share of the
    samples taken inside ``Flask.wsgi_app``), and their own (self) share."""
    if not raw.exists():
        return ["(no profile)"]
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = outside = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";")]
        roots = [i for i, f in enumerate(frames) if f.startswith("Flask.wsgi_app ")]
        if not roots:
            outside += int(count)
            continue
        frames = frames[roots[0] + 1 :]
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
        if frames:
            own[frames[-1]] += int(count)
    if not total:
        return ["(no samples)"]
    rows = [f"{total} samples in requests, {outside} outside (GIL held)"]
    rows += [
        f"{100 * n / total:5.1f}% incl {100 * own[f] / total:5.1f}% self  {f}"
        for f, n in inclusive.most_common(top)
    ]
    rows.append("top self:")
    rows += [f"{100 * n / total:5.1f}% self  {f}" for f, n in own.most_common(8)]
    return rows


def _short(frame: str) -> str:
    # "name (/x/site-packages/pkg/mod.py:12)" -> "name (pkg/mod.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    for top in ("/app/", "/repos/", "/runner/"):
        if top in where:
            where = top[1:] + where.rsplit(top, 1)[1]
    return f"{name} ({where})"
