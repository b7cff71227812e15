"""``ade serve`` opens no gunicorn control socket: gunicorn >= 25.1 binds one per
user by default ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl), so a second
instance took over the first one's (issue 16)."""

from __future__ import annotations

import pytest

from tests.serve_helpers import Server, ade_env, ade_init


@pytest.mark.timeout(180)
def test_two_instances_bind_no_control_socket(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    servers = []
    try:
        for name in ("one", "two"):
            env = ade_env(tmp_path / name, HOME=str(home))
            env.pop("XDG_RUNTIME_DIR", None)
            ade_init(env)
            server = Server(env, tmp_path / f"{name}.log")
            server.start()
            servers.append(server)
        assert not list(home.rglob("*.ctl"))
        for server in servers:
            assert "Control socket" not in server.log.read_text()
    finally:
        for server in servers:
            server.kill()
