"""Sign-in by pasting a token, the workspace's config list, creating a config."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.conftest import bearer


def test_sign_in_and_create_config(new_page, ws, api):
    page = new_page()
    page.goto("/workspaces/acme/configs")
    # No token in this tab yet: the page sends us to sign in, and back afterwards.
    expect(page).to_have_url("/signin?next=%2Fworkspaces%2Facme%2Fconfigs")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.get_by_label("API token").fill("ade_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("not valid")

    page.get_by_label("API token").fill(ws["tokens"]["author"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/workspaces/acme/configs")
    assert (
        page.evaluate("sessionStorage.getItem('ade.token')") == ws["tokens"]["author"]
    )
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    page.get_by_label("Title").fill("Member Roster")
    expect(page.get_by_label("Slug")).to_have_value("member-roster")
    page.get_by_role("button", name="Create config").click()
    expect(page).to_have_url(re.compile(r"/workspaces/acme/configs/\w+/editor$"))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#config-title")).to_have_text("Member Roster")
    expect(page.locator("#clone-url")).to_have_value(
        re.compile(r"/git/acme/member-roster\.git$")
    )
    # The scaffold's files are grouped in the tree.
    tree = page.locator("#tree")
    for group in ("Startup", "Run", "Columns", "Table", "Plan", "History"):
        expect(tree.get_by_role("heading", name=group, exact=True)).to_be_visible()
    expect(tree.get_by_role("button", name="+ Add column")).to_be_visible()
    configs = api.get(
        "/api/v1/workspaces/acme/configs", headers=bearer(ws["tokens"]["author"])
    )
    assert "member-roster" in [c["slug"] for c in configs.json]

    # The token is kept for this tab only: a new context has to sign in again.
    other = new_page()
    other.goto("/workspaces/acme/configs")
    expect(other).to_have_url(re.compile(r"/signin\?next="))
    assert page.errors == [] and page.blocked == []


def test_editor_pages_are_self_contained(api, server, vendored_static):
    """CSP on the pages, Monaco and Swagger UI served locally (no CDN)."""
    resp = api.get("/workspaces/acme/configs/x/editor")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "worker-src 'self' blob:" in csp
    assert api.get("/editor/static/vs/loader.js").status_code == 200
    assert api.get("/editor/static/vs/LICENSE").status_code == 200
    docs = api.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"/static/swagger-ui/swagger-ui-bundle.js" in docs.data
    assert api.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_follows_next_off_site(new_page, ws, next_url):
    # Browsers read "/\evil" as "//evil" and drop tabs, so a prefix check on the raw
    # string was an open redirect: the target is resolved before it is followed.
    page = new_page()
    page.goto("/signin?next=" + quote(next_url, safe=""))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.get_by_label("API token").fill(ws["tokens"]["author"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/workspaces/acme/configs")
    assert page.blocked == []


def test_signed_out_pages_show_no_sign_out(new_page):
    """``hidden`` wins over the stylesheet's ``button { display: inline-block }``:
    the sign-in page of a tab without a token offers no Sign out."""
    page = new_page()
    page.goto("/signin")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#signout")).to_be_hidden()
