"""Helpers for documents, dry-run and jobs tests: workbooks and published configs."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests import waits
from tests.conftest import bearer


def roster_xlsx(rows: int = 5, *, email_header: str = "E-mail") -> bytes:
    """A small roster with a title row; the scaffold's ``email`` column matches it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Roster"
    ws.append(["Member roster, November"])
    ws.append([])
    ws.append(["Member #", "Name", email_header, "Joined"])
    for i in range(rows):
        ws.append([1000 + i, f"Person {i}", f"  Person{i}@Example.org ", 2020 + i % 5])
    ws.append([1999, "Bad Row", "not-an-email", 2024])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, ws, token, data: bytes, filename="roster.xlsx"):
    return client.post(
        f"/api/v1/workspaces/{ws}/documents",
        data={"file": (io.BytesIO(data), filename)},
        headers=bearer(token),
        content_type="multipart/form-data",
    )


def create_config(client, ws, token, slug="roster"):
    resp = client.post(
        f"/api/v1/workspaces/{ws}/configs",
        json={"slug": slug, "title": slug.title()},
        headers=bearer(token),
    )
    assert resp.status_code == 201, resp.json
    return resp.json


def put_file(client, ws, config_id, token, path, code):
    url = f"/api/v1/workspaces/{ws}/configs/{config_id}/draft/files/{path}"
    current = client.get(url, headers=bearer(token))
    assert current.status_code == 200, current.json
    resp = client.put(
        url,
        json={"code": code},
        headers={**bearer(token), "If-Match": current.headers["ETag"]},
    )
    assert resp.status_code == 200, resp.json
    return resp.json


def publish(client, ws, config_id, token, semver="1.0.0"):
    resp = client.post(
        f"/api/v1/workspaces/{ws}/configs/{config_id}/publish",
        json={"semver": semver, "message": f"Release {semver}"},
        headers=bearer(token),
    )
    assert resp.status_code == 201, resp.json
    return resp.json


def wait_for_job(
    client, ws, job_id, token, timeout=60, until=("succeeded", "failed", "cancelled")
):
    """The job once its status is one of ``until``; fails the test (with the job as
    last seen) when that takes over ``timeout`` seconds."""
    url = f"/api/v1/workspaces/{ws}/jobs/{job_id}"
    seen = {}

    def reached():
        seen["job"] = client.get(url, headers=bearer(token)).json
        return seen["job"] if seen["job"]["status"] in until else None

    return waits.wait_for(
        reached,
        timeout,
        0.1,
        what=f"job {job_id} to reach {'/'.join(until)}",
        last=lambda: seen.get("job"),
    )
