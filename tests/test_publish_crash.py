"""kill -9 at random moments during publishes, reverts and saves: after every
restart git and SQL agree, and an interrupted publish is complete or absent (SPEC §3).

``ade serve --workers 1`` runs as a subprocess on a temp SQLite data dir; a publisher
thread (which also reverts now and then) and a saver thread hit it back to back while
the test SIGKILLs the server's whole process group after a random delay, then
restarts it (which runs the reconciler before serving) and checks the index against
the refs.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.models import ConfigVersion
from repos.store import Store
from tests.serve_helpers import Dead, Server, ade_env, ade_init, call
from tests.versions_helpers import assert_git_matches_sql

ROUNDS = 12  # every run does all of them (~20 s idle): no budget a busy machine misses


class Worker(threading.Thread):
    """Runs one kind of operation in a loop until ``stop`` is set."""

    def __init__(self, op, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.op, self.stop = op, stop
        self.ops = 0
        self.unexpected: list = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.op(self)
            except Dead:
                return
            self.ops += 1


class Scene:
    """A server with one config, the operations the workers repeat, and what
    has been acknowledged so far (what must survive a kill)."""

    def __init__(self, tmp_path: Path, rng: random.Random) -> None:
        self.rng = rng
        # Publishes as fast as the server takes them: the per-token publish rate
        # limit (30/minute) would answer 429s that say nothing about crash safety.
        env = ade_env(tmp_path / "data", ADE_RATE_LIMIT_PUBLISH="")
        self.token = ade_init(env)
        self.server = Server(env, tmp_path / "serve.log")
        self.server.start()
        ws = self.call_ok(201, "POST", "/api/v1/workspaces", {"slug": "w", "name": "W"})
        cfg = self.call_ok(
            201, "POST", "/api/v1/workspaces/w/configs", {"slug": "c", "title": "C"}
        )
        self.config_id = cfg["id"]
        self.url = f"/api/v1/workspaces/w/configs/{cfg['id']}"
        self.repo = Store(tmp_path / "data" / "repos").open(ws["id"], cfg["id"])
        self.engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'ade.db'}")
        self.semver = self.save_count = self.saved = 0
        self.acked: list[str] = []
        self.in_flight: str | None = None

    def call(self, method: str, path: str, body=None, headers=None):
        return call(self.server.base, method, path, self.token, body, headers)

    def call_ok(self, expected: int, method: str, path: str, body=None):
        status, answer, _ = self.call(method, path, body)
        assert status == expected, (method, path, status, answer)
        return answer

    def publish(self, w: Worker) -> None:
        if self.acked and self.rng.random() < 0.2:
            status, body, _ = self.call("POST", f"{self.url}/revert")
            if status not in (200, 409):  # 409: nothing earlier to revert to
                w.unexpected.append(("revert", status, body))
            return
        self.semver += 1
        semver = f"1.0.{self.semver}"
        self.in_flight = semver
        status, body, _ = self.call(
            "POST", f"{self.url}/publish", {"semver": semver, "message": f"m{semver}"}
        )
        self.in_flight = None
        if status == 201:
            self.acked.append(semver)
        else:
            w.unexpected.append((semver, status, body))

    def save(self, w: Worker) -> None:
        path = f"{self.url}/draft/files/startup.py"
        status, body, _ = self.call("GET", path)
        if status != 200:
            w.unexpected.append(("get", status, body))
            return
        self.save_count += 1
        n = self.save_count
        status, body, _ = self.call(
            "PUT", path, {"code": f"# save {n}\n"}, {"If-Match": f'"{body["sha"]}"'}
        )
        if status == 200:
            self.saved = n
        else:
            w.unexpected.append(("put", status, body))

    def round(self) -> tuple[int, list, bool]:
        """Work until a kill -9 at a random moment, restart, check; return the
        operations done, the unexpected answers, whether the reconciler repaired."""
        stop = threading.Event()
        workers = [Worker(self.publish, stop), Worker(self.save, stop)]
        for w in workers:
            w.start()
        # The random moment of the kill is the point of the test, not a wait.
        time.sleep(self.rng.uniform(0.2, 1.0))
        self.server.kill()
        stop.set()
        for w in workers:
            w.join(timeout=60)
        interrupted, self.in_flight = self.in_flight, None
        before = self.server.log.read_text().count("reconciler repaired")
        self.server.start()
        repaired = self.server.log.read_text().count("reconciler repaired") > before
        self.check(interrupted)
        ops = sum(w.ops for w in workers)
        return ops, [u for w in workers for u in w.unexpected], repaired

    def check(self, interrupted: str | None) -> None:
        with Session(self.engine) as session:
            rows = list(
                session.scalars(
                    select(ConfigVersion).where(
                        ConfigVersion.config_id == self.config_id
                    )
                )
            )
        assert_git_matches_sql(self.repo, rows)
        semvers = {r.semver: r.status for r in rows}
        for acked in self.acked:
            assert acked in semvers, f"acknowledged publish {acked} lost"
        if interrupted is not None and interrupted in semvers:
            # All or nothing: an interrupted publish that left a tag is live.
            assert semvers[interrupted] == "published", (interrupted, semvers)
        text = self.repo.read_file("startup.py").data.decode()
        if self.saved:
            assert int(text.split()[-1]) >= self.saved, "acknowledged save lost"


@pytest.mark.timeout(600)  # a hang guard: ~20 s on an idle machine
def test_kill_minus_nine_never_leaves_git_and_sql_disagreeing(tmp_path):
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    scene = Scene(tmp_path, rng)
    total_ops = repairs = 0
    unexpected: list = []
    done = 0
    try:
        while done < ROUNDS:
            ops, odd, repaired = scene.round()
            total_ops, repairs = total_ops + ops, repairs + repaired
            unexpected += odd
            done += 1
    finally:  # the seed, also when a round's check failed
        scene.server.kill()
        print(
            f"seed={seed} ops={total_ops} rounds={done} repaired={repairs} "
            f"published={len(scene.acked)} saves={scene.saved}"
        )
    if unexpected:
        lines = scene.server.log.read_text().splitlines()
        print("\n".join(line for line in lines if "] [INFO] " not in line)[-12000:])
    assert not unexpected, unexpected
    assert total_ops >= 10, total_ops  # too few to mean anything
    assert scene.acked, "no publish ever succeeded"
