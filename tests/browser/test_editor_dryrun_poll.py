"""A dry run longer than ``DRY_RUN_SYNC_SECONDS`` answers 202: the editor follows
it, showing its progress, to the same report a synchronous run shows."""

from __future__ import annotations

import io

import openpyxl
from playwright.sync_api import expect

from tests.browser.helpers import open_editor
from tests.conftest import bearer

# run_start waits a few seconds: long enough to see the progress line.
SLOW_RUN = """import typing


def run_start(*, ctx, **_):
    typing.sys.modules["time"].sleep(3)
"""


def test_a_202_dry_run_is_polled_to_its_report(
    new_page, ws, config, api, live_app, monkeypatch
):
    monkeypatch.setitem(live_app.config, "DRY_RUN_SYNC_SECONDS", 0)
    token = ws["tokens"]["author"]
    url = f"/api/v1/workspaces/acme/configs/{config['id']}/draft/files/run.py"
    current = api.get(url, headers=bearer(token))
    resp = api.put(
        url,
        json={"code": SLOW_RUN},
        headers={**bearer(token), "If-Match": current.headers["ETag"]},
    )
    assert resp.status_code == 200, resp.json
    book = openpyxl.Workbook()
    book.active.append(["Name", "E-mail"])
    book.active.append(["Ann", "ann@example.com"])
    buf = io.BytesIO()
    book.save(buf)
    doc = api.post(
        "/api/v1/workspaces/acme/documents",
        data={"file": (io.BytesIO(buf.getvalue()), "slow.xlsx")},
        headers=bearer(token),
        content_type="multipart/form-data",
    )
    assert doc.status_code == 201, doc.json

    page = new_page(token=token)
    open_editor(page, config)
    page.locator("#tree").get_by_role("button", name="Dry run").click()
    expect(page.locator("#dryrun-document")).to_contain_text("slow.xlsx")
    page.locator("#dryrun-document").select_option(doc.json["id"])
    page.get_by_role("button", name="Run dry run").click()
    expect(page.locator("#dryrun-status")).to_contain_text(
        "Running (run_start", timeout=30_000
    )
    expect(page.locator("#dryrun-outcome")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("#dryrun-status")).to_have_text("Done.")
    expect(page.get_by_role("button", name="Output workbook (.xlsx)")).to_be_enabled()
    assert page.errors == [] and page.blocked == []
