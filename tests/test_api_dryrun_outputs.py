"""The dry run's downloads (its workbook and report, kept a while, for its
workspace only) and its preview of the output rows."""

from __future__ import annotations

import io
import os
import time

from openpyxl import load_workbook

from app.services import dryrun_store
from app.services.errors import NotFound
from tests.conftest import bearer, other_workspace_admin
from tests.jobs_helpers import create_config, put_file, roster_xlsx, upload

BROKEN = "def detect_boom(**_):\n    raise ValueError('boom')\n"


def _dry_run(client, token, config_id, doc_id):
    return client.post(
        f"/api/v1/workspaces/acme/configs/{config_id}/draft:dry-run",
        json={"documentId": doc_id},
        headers=bearer(token),
    )


def test_dry_run_keeps_its_workbook_and_report_for_its_workspace(
    client, workspace, admin_token
):
    t = workspace["tokens"]
    config = create_config(client, "acme", t["author"])
    doc = upload(client, "acme", t["author"], roster_xlsx(3)).json
    resp = _dry_run(client, t["author"], config["id"], doc["id"])
    assert resp.status_code == 200 and resp.json["status"] == "succeeded"
    run = resp.json
    downloads = run["downloads"]
    assert downloads["output"] == f"/api/v1/workspaces/acme/dry-runs/{run['id']}/output"

    out = client.get(downloads["output"], headers=bearer(t["viewer"]))
    assert out.status_code == 200
    assert out.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(out.data))["Normalized"].values)
    assert rows[0][0] == "Email" and rows[1][0] == "person0@example.org"
    report = client.get(downloads["report"], headers=bearer(t["viewer"]))
    assert report.status_code == 200 and report.json["tables"] == run["tables"]

    # The preview: the same first rows, labels as headers, the issue cell marked.
    preview = run["preview"]
    assert [c["label"] for c in preview["columns"]] == ["Email"]
    (table,) = preview["tables"]
    assert run["tables"][table["table"]]["rows"] == table["total_rows"] == 4
    assert [r["values"] for r in table["rows"]][:2] == [
        ["person0@example.org"],
        ["person1@example.org"],
    ]
    bad = table["rows"][-1]
    assert bad["values"] == ["not-an-email"] and "email" in bad["issues"]
    assert table["skipped_above"] == [
        {"rows": [1, 1], "text": "Member roster, November"}
    ]

    # Another workspace cannot fetch them, whoever asks; nor an unknown id.
    other = other_workspace_admin(client, admin_token)
    assert client.get(downloads["output"], headers=bearer(other)).status_code == 404
    moved = downloads["output"].replace("/acme/", "/other/")
    assert client.get(moved, headers=bearer(other)).status_code == 404
    assert client.get(downloads["output"]).status_code == 401
    for bad_id in ("0" * 32, "..", "x"):
        url = f"/api/v1/workspaces/acme/dry-runs/{bad_id}/report"
        assert client.get(url, headers=bearer(t["viewer"])).status_code == 404


def test_a_failed_dry_run_has_a_report_but_no_workbook(client, workspace):
    t = workspace["tokens"]
    config = create_config(client, "acme", t["author"])
    put_file(client, "acme", config["id"], t["author"], "columns/email.py", BROKEN)
    doc = upload(client, "acme", t["author"], roster_xlsx(2)).json
    run = _dry_run(client, t["author"], config["id"], doc["id"]).json
    assert run["status"] == "failed" and run["downloads"]["output"] is None
    url = f"/api/v1/workspaces/acme/dry-runs/{run['id']}"
    assert client.get(f"{url}/output", headers=bearer(t["author"])).status_code == 404
    report = client.get(f"{url}/report", headers=bearer(t["author"]))
    assert report.status_code == 200 and "boom" in report.json["error"]


def test_old_and_surplus_dry_runs_are_pruned(tmp_path):
    settings = {"DRY_RUN_KEEP": 3, "DRY_RUN_KEEP_HOURS": 1}
    made = []
    for i in range(5):
        run_id, folder = dryrun_store.new_run(tmp_path, "ws1", settings)
        (folder / dryrun_store.REPORT).write_text("{}")
        os.utime(folder, (time.time() - 10 + i, time.time() - 10 + i))
        made.append(run_id)
    kept = sorted(p.name for p in dryrun_store.workspace_dir(tmp_path, "ws1").iterdir())
    assert kept == sorted(made[-3:])  # the newest DRY_RUN_KEEP
    # Older than DRY_RUN_KEEP_HOURS: removed when asked for, and by prune_all.
    old = dryrun_store.workspace_dir(tmp_path, "ws1") / made[-1]
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    try:
        dryrun_store.artifact(tmp_path, "ws1", made[-1], dryrun_store.REPORT, settings)
        raise AssertionError("an expired run was served")
    except NotFound:
        pass
    assert not old.exists()
    middle = dryrun_store.workspace_dir(tmp_path, "ws1") / made[-2]
    os.utime(middle, (time.time() - 7200, time.time() - 7200))
    assert dryrun_store.prune_all(tmp_path, settings) == 1
    assert len(list(dryrun_store.workspace_dir(tmp_path, "ws1").iterdir())) == 1


def test_a_header_forced_by_the_manifest_is_flagged_in_the_preview(client, workspace):
    t = workspace["tokens"]
    config = create_config(client, "acme", t["author"])
    resp = client.patch(
        f"/api/v1/workspaces/acme/configs/{config['id']}/draft/manifest",
        json={"hints": {"header_row": 3}},
        headers=bearer(t["author"]),
    )
    assert resp.status_code == 200, resp.json
    doc = upload(client, "acme", t["author"], roster_xlsx(2)).json
    run = _dry_run(client, t["author"], config["id"], doc["id"]).json
    (table,) = run["preview"]["tables"]
    assert table["forced_header"] is True and table["header_rows"] == [3, 3]
