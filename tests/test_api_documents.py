"""Documents: upload, content addressing, limits, 415, isolation, delete."""

import hashlib
import io
import zipfile

import pytest

from tests.conftest import bearer, make_app
from tests.jobs_helpers import roster_xlsx, upload


def test_upload_list_get_download_delete(app, client, workspace):
    t = workspace["tokens"]
    data = roster_xlsx()
    resp = upload(client, "acme", t["author"], data, "../../evil/roster.xlsx")
    assert resp.status_code == 201, resp.json
    doc = resp.json
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["size"] == len(data) and doc["filename"] == "roster.xlsx"
    blob = app.config["DATA_DIR"] / "documents" / doc["sha256"][:2] / doc["sha256"]
    assert blob.read_bytes() == data

    listed = client.get(
        "/api/v1/workspaces/acme/documents", headers=bearer(t["viewer"])
    )
    assert [d["id"] for d in listed.json] == [doc["id"]]
    url = f"/api/v1/workspaces/acme/documents/{doc['id']}"
    assert client.get(url, headers=bearer(t["viewer"])).json["sha256"] == doc["sha256"]
    content = client.get(url + "/content", headers=bearer(t["viewer"]))
    assert content.status_code == 200 and content.data == data

    # The same bytes twice: two rows, one blob; the blob goes with the last row.
    second = upload(client, "acme", t["author"], data).json
    assert client.delete(url, headers=bearer(t["viewer"])).status_code == 403
    assert client.delete(url, headers=bearer(t["author"])).status_code == 204
    assert blob.exists()
    url2 = f"/api/v1/workspaces/acme/documents/{second['id']}"
    assert client.delete(url2, headers=bearer(t["author"])).status_code == 204
    assert not blob.exists()
    assert client.get(url, headers=bearer(t["viewer"])).status_code == 404


def _zip(names):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, "x")
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"name,email\na,b@c.d\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
        _zip(["word/document.xml"]),
        b"PK\x03\x04truncated",
    ],
    ids=["csv", "ole-xls-or-encrypted", "docx-like-zip", "truncated-zip"],
)
def test_non_spreadsheets_are_415(client, workspace, data):
    resp = upload(client, "acme", workspace["tokens"]["author"], data, "x.xlsx")
    assert resp.status_code == 415, resp.json
    assert resp.mimetype == "application/problem+json" and resp.json["detail"]


def test_missing_file_field_is_400_and_empty_file_415(client, workspace):
    h = bearer(workspace["tokens"]["author"])
    resp = client.post(
        "/api/v1/workspaces/acme/documents",
        data={},
        headers=h,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    empty = upload(client, "acme", workspace["tokens"]["author"], b"")
    assert empty.status_code == 415 and "empty" in empty.json["detail"]


def test_upload_over_the_limit_is_413(tmp_path, sqlite_url):
    from tests.conftest import admin_secret_for

    app = make_app(tmp_path, sqlite_url, MAX_UPLOAD_BYTES=10_000)
    client = app.test_client()
    token = admin_secret_for(app)
    client.post(
        "/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=bearer(token)
    )
    resp = upload(client, "w", token, roster_xlsx(rows=2000))
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"


def test_documents_are_workspace_scoped(client, workspace, admin_token):
    doc = upload(client, "acme", workspace["tokens"]["author"], roster_xlsx()).json
    client.post(
        "/api/v1/workspaces",
        json={"slug": "other", "name": "O"},
        headers=bearer(admin_token),
    )
    r = client.post(
        "/api/v1/workspaces/other/tokens",
        json={"name": "o", "role": "admin"},
        headers=bearer(admin_token),
    )
    other = r.json["secret"]
    for path in ("", "/content"):
        url = f"/api/v1/workspaces/acme/documents/{doc['id']}{path}"
        assert client.get(url, headers=bearer(other)).status_code == 404
    assert (
        client.get(
            f"/api/v1/workspaces/other/documents/{doc['id']}", headers=bearer(other)
        ).status_code
        == 404
    )


def test_an_rfc5987_file_name_cannot_turn_a_workbook_into_html(client, workspace):
    """``filename*=`` wins over ``filename=`` in Werkzeug: whatever name arrives,
    the stored (and downloaded) name keeps a workbook's extension."""
    data = roster_xlsx()
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; '
        b"filename=\"roster.xlsx\"; filename*=UTF-8''x.html\r\n"
        b"Content-Type: text/html\r\n\r\n" + data + b"\r\n--B--\r\n"
    )
    resp = client.post(
        "/api/v1/workspaces/acme/documents",
        data=body,
        headers={
            **bearer(workspace["tokens"]["author"]),
            "Content-Type": "multipart/form-data; boundary=B",
        },
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["filename"] == "x.html.xlsx"
    url = f"/api/v1/workspaces/acme/documents/{resp.json['id']}/content"
    download = client.get(url, headers=bearer(workspace["tokens"]["viewer"]))
    assert download.mimetype.endswith("spreadsheetml.sheet")
    assert "x.html.xlsx" in download.headers["Content-Disposition"]
