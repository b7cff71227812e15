"""Small steps shared by the browser tests."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect


def open_editor(page: Page, config: dict) -> None:
    """Open a config's editor and wait until Monaco and the tree are ready."""
    page.goto(config["editor"])
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def open_file(page: Page, path: str) -> None:
    page.locator(f'#tree button[data-path="{path}"]').click()
    expect(page.locator(f'#tabs .tab.active[data-path="{path}"]')).to_be_visible()


def editor_value(page: Page) -> str:
    return page.evaluate("window.adeEditor.files.editor.getValue()")


def type_at_end(page: Page, text: str) -> None:
    """Type into Monaco like a user: focus, go to the end, type."""
    page.locator("#monaco .view-lines").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def save_screenshot(page: Page, name: str) -> Path:
    """Save a screenshot for the README: into docs/screenshots/ when
    ``ADE_UPDATE_SCREENSHOTS=1``, else under test-artifacts/ (CI leaves docs alone)."""
    folder = (
        SCREENSHOTS if os.environ.get("ADE_UPDATE_SCREENSHOTS") == "1" else ARTIFACTS
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.evaluate("document.getElementById('notice').hidden = true")
    page.screenshot(path=str(path))
    return path


def markers(page: Page, path: str) -> list[str]:
    """The messages of Monaco's markers on an open file."""
    return page.evaluate(
        """(path) => {
            const uri = window.monaco.Uri.from({scheme: 'ade', path: '/' + path});
            return window.monaco.editor.getModelMarkers({resource: uri})
                .map((m) => m.message);
        }""",
        path,
    )


def tree_item(page: Page, path: str):
    return page.locator(f'#tree button[data-path="{path}"]')


def downloaded_workbook(download):
    """Open a Playwright download as a workbook (its temp file has no suffix)."""
    import io

    import openpyxl

    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    with open(download.path(), "rb") as fh:
        return openpyxl.load_workbook(io.BytesIO(fh.read()))
