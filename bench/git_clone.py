"""Clone over HTTP vs ``git clone file://`` of the same repo, measured in one run.

Builds one config repo (default 50 files, 500 commits, 20 version tags) the way the
API does (CAS commits on the draft, annotated tags, then the periodic ``git gc``),
serves the app on a local port, and times ``git clone`` of it over HTTP (protocol
v2 and v0, token in the URL) against ``git clone file://`` of the bare repo.

    .venv/bin/python bench/git_clone.py [--files N] [--commits N] [--tags N]
        [--repeat K] [--server werkzeug|gunicorn]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app, db  # noqa: E402
from app.models import Config, new_id  # noqa: E402
from app.services.tokens import create_token  # noqa: E402
from app.services.workspaces import create_workspace  # noqa: E402
from app.web import get_store  # noqa: E402
from repos.types import Author  # noqa: E402
from runner.scaffold import scaffold_files  # noqa: E402

AUTHOR = Author("bench", "bench@ade.local")


def build_repo(app, files: int, commits: int, tags: int) -> tuple[Path, str]:
    """The bench config; returns (repo path, viewer token)."""
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        ws = create_workspace(session, "bench", "Bench")
        _tok, secret = create_token(session, "bench", role="viewer", workspace_id=ws.id)
        content = dict(scaffold_files("bench"))
        for i in range(files - len(content)):
            content[f"lib/module_{i:03d}.py"] = (
                f'"""Helper {i}."""\n\n'
                + "".join(f"VALUE_{j} = {i * 1000 + j}\n" for j in range(40))
            ).encode()
        config_id = new_id()
        repo = get_store().create(ws.id, config_id, content, AUTHOR)
        session.add(Config(id=config_id, workspace_id=ws.id, slug="cfg", title="c"))
        session.commit()
        paths = sorted(p for p in content if p.startswith("lib/")) or sorted(content)
        every = max(1, (commits - 1) // max(tags, 1))
        published = 0
        for n in range(1, commits):
            path = paths[n % len(paths)]
            data = content[path] + f"# edit {n}\n".encode()
            content[path] = data
            repo.write_file(path, data, author=AUTHOR)
            if n % every == 0 and published < tags:
                published += 1
                repo.publish(f"1.{published}.0", f"release {published}", tagger=AUTHOR)
        repo.maintain(force=True)  # what the periodic gc leaves behind
        session.close()
        return repo.path, secret


def serve(app, kind: str) -> tuple[str, callable]:
    """Start the app on a free port; returns (base URL, stop)."""
    if kind == "werkzeug":
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop():
            server.shutdown()
            server.server_close()

        return f"http://127.0.0.1:{server.server_port}", stop
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(
        os.environ,
        ADE_DATA_DIR=str(app.config["DATA_DIR"]),
        ADE_DATABASE_URL=app.config["DATABASE_URL"],
        ADE_LOG_LEVEL="WARNING",
    )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ok = subprocess.run(
            ["curl", "-sf", f"{base}/healthz"], capture_output=True, check=False
        )
        if ok.returncode == 0:
            break
        time.sleep(0.2)

    def stop():
        proc.terminate()
        proc.wait(10)

    return base, stop


def time_clone(url: str, dest: Path, env: dict, protocol: str | None) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    args = ["git"]
    if protocol:
        args += ["-c", f"protocol.version={protocol}"]
    args += ["clone", "-q", url, str(dest)]
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--tags", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--server", choices=("werkzeug", "gunicorn"), default="werkzeug"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ade-bench-git-") as tmp:
        tmp = Path(tmp)
        url = f"sqlite:///{tmp / 'ade.db'}"
        db.upgrade(url)
        app = create_app(
            {
                "DATA_DIR": tmp / "data",
                "DATABASE_URL": url,
                "LOG_LEVEL": "WARNING",
                "LOG_FORMAT": "text",
            }
        )
        t0 = time.perf_counter()
        repo_path, token = build_repo(app, args.files, args.commits, args.tags)
        print(
            f"repo: {args.files} files, {args.commits} commits, {args.tags} tags "
            f"(built in {time.perf_counter() - t0:.1f} s)"
        )
        base, stop = serve(app, args.server)
        home = tmp / "home"
        home.mkdir()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }
        scheme, rest = base.split("://", 1)
        http_url = f"{scheme}://git:{token}@{rest}/git/bench/cfg.git"
        cases = {
            "file://": (f"file://{repo_path}", None),
            "http v2": (http_url, "2"),
            "http v0": (http_url, "0"),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        try:
            for clone_url, proto in cases.values():  # warm-up
                time_clone(clone_url, tmp / "warm", env, proto)
            for _ in range(args.repeat):  # interleaved, so drift hits all alike
                for name, (clone_url, proto) in cases.items():
                    times[name].append(time_clone(clone_url, tmp / "c", env, proto))
        finally:
            stop()
        base_ms = statistics.median(times["file://"]) * 1000
        print(f"server: {args.server}; median of {args.repeat} clones each")
        for name, values in times.items():
            ms = statistics.median(values) * 1000
            print(f"  {name:8s} {ms:7.1f} ms   {ms / base_ms:4.2f}x file://")


if __name__ == "__main__":
    main()
