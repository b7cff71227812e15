"""The quick cURL sequence of the original plan, run as written with real ``curl``
and ``jq`` against ``ade serve`` (plus a base URL and an Authorization header,
which the plan's snippet left out)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from repos.store import Store
from tests.serve_helpers import Server, ade_env, ade_init, call

SCRIPT = r"""
set -euo pipefail
H="Authorization: Bearer $TOKEN"
api="$BASE/api/v1"

# Create config
curl -sS -X POST $api/workspaces/$WS/configs -d '{"slug":"optima","title":"Optima Roster"}' -H 'Content-Type: application/json' -H "$H"
echo

# List draft files
curl -sS $api/workspaces/$WS/configs/$CFG/draft/files -H "$H"
echo

# Create a column
curl -sS -X POST $api/workspaces/$WS/configs/$CFG/draft/files -d '{"path":"columns/postal_code.py"}' -H 'Content-Type: application/json' -H "$H"
echo

# Save file with ETag
ETAG=$(curl -sS $api/workspaces/$WS/configs/$CFG/draft/files/columns/postal_code.py -H "$H" | jq -r .sha256)
curl -sS -X PUT $api/workspaces/$WS/configs/$CFG/draft/files/columns/postal_code.py \
  -H "If-Match: $ETAG" -d '{"code":"# new code here"}' -H 'Content-Type: application/json' -H "$H"
echo

# Publish
curl -sS -X POST $api/workspaces/$WS/configs/$CFG/publish -d '{"semver":"1.0.0","message":"Initial"}' -H 'Content-Type: application/json' -H "$H"
echo
"""  # noqa: E501 - the plan's commands, kept as written


@pytest.mark.timeout(120)
def test_quick_curl_script_runs_as_written(tmp_path):
    for tool in ("curl", "jq", "bash"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run 'make setup-tools'")
    env = ade_env(tmp_path / "data")
    admin = ade_init(env)
    server = Server(env, tmp_path / "serve.log")
    server.start()
    try:
        status, ws, _ = call(
            server.base,
            "POST",
            "/api/v1/workspaces",
            admin,
            {"slug": "acme", "name": "A"},
        )
        assert status == 201
        status, token, _ = call(
            server.base,
            "POST",
            "/api/v1/workspaces/acme/tokens",
            admin,
            {"name": "script", "role": "publisher"},
        )
        assert status == 201
        script_env = {
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "BASE": server.base,
            "TOKEN": token["secret"],
            "WS": "acme",
            "CFG": "optima",  # {config_id} accepts the slug too
        }
        proc = subprocess.run(
            ["bash", "-c", SCRIPT],
            env=script_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        assert len(lines) == 5, proc.stdout
        published = json.loads(lines[-1])
        assert published["status"] == "published", published
        assert published["semver"] == "1.0.0"
    finally:
        server.kill()
    # What the script did is in git: the column saved, then tagged and live.
    store = Store(tmp_path / "data" / "repos")
    (config_id,) = store.list_configs(ws["id"])
    repo = store.open(ws["id"], config_id)
    assert repo.read_file("columns/postal_code.py", "v1.0.0").data == b"# new code here"
    assert repo.tags()[0].message.strip() == "Initial"
    assert repo.main_commit() == repo.resolve("v1.0.0")
