"""Administration in the browser: an instance admin renames and deletes a
workspace (a workspace with contents asks for "delete everything"); a workspace
admin revokes a token."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import bearer


def test_rename_and_delete_a_workspace_and_revoke_a_token(new_page, api, admin_secret):
    h = bearer(admin_secret)
    assert (
        api.post(
            "/api/v1/workspaces", json={"slug": "tmp-ws", "name": "Tmp"}, headers=h
        ).status_code
        == 201
    )
    api.post(
        "/api/v1/workspaces/tmp-ws/configs", json={"slug": "c", "title": "C"}, headers=h
    )
    api.post(
        "/api/v1/workspaces/tmp-ws/tokens",
        json={"name": "old", "role": "viewer"},
        headers=h,
    )

    page = new_page(token=admin_secret)
    page.goto("/workspaces")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    item = page.locator('.ws-item[data-slug="tmp-ws"]')
    item.get_by_role("button", name="Rename…").click()
    rename = page.locator("#rename-ws-dialog")
    rename.get_by_label("Name").fill("Temporary")
    rename.get_by_label("Slug").fill("temp-ws")
    rename.get_by_role("button", name="Rename").click()
    item = page.locator('.ws-item[data-slug="temp-ws"]')
    expect(item).to_contain_text("Temporary")

    # Tokens: revoke one; it is gone from the list.
    item.get_by_role("link", name="Tokens").click()
    expect(page).to_have_url("/workspaces/temp-ws/tokens")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator('#token-table tr[data-token="old"]').get_by_role(
        "button", name="Revoke…"
    ).click()
    page.locator("#revoke-dialog").get_by_role("button", name="Revoke").click()
    expect(page.locator('#token-table tr[data-token="old"]')).to_have_count(0)

    # Delete: refused while it holds a config, then with everything in it.
    page.goto("/workspaces")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator('.ws-item[data-slug="temp-ws"]').get_by_role(
        "button", name="Delete…"
    ).click()
    delete = page.locator("#delete-ws-dialog")
    delete.get_by_role("button", name="Delete").click()
    expect(page.locator("#delete-ws-error")).to_contain_text("holds 1 configs")
    delete.get_by_label("Delete everything in it").check()
    delete.get_by_role("button", name="Delete").click()
    expect(delete).to_be_hidden()
    expect(page.locator('.ws-item[data-slug="temp-ws"]')).to_have_count(0)
    assert api.get("/api/v1/workspaces/temp-ws", headers=h).status_code == 404
    assert page.errors == [] and page.blocked == []
