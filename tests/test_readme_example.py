"""The README's worked example (API with curl, then git), run as written with real
``curl``, ``jq``, ``git`` and ``ade`` against ``ade serve``. Only what a reader fills
in differs: the port, the pasted admin token, ``$EDITOR`` (a script that edits the
column); ``.venv`` is the project's venv and ``mktemp -d`` makes its dir in a
scratch dir of the test's (under the system temp dir: the sandbox's dropped uid must
be able to reach its scratch, which a pytest tmp_path, 0700, is not). The docs
cannot drift from the product without this test failing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.serve_helpers import Server, ade_env, ade_init

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## A worked API example"


def readme_example() -> str:
    """Every ```bash block of the worked-example section (up to the next ``## ``)."""
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert blocks, "no bash blocks in the README's worked example"
    return "\n".join(blocks)


@pytest.mark.timeout(180)
def test_readme_worked_example_runs_as_written(tmp_path):
    for tool in ("curl", "jq", "git", "bash"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run 'make setup-tools'")
    env = ade_env(tmp_path / "data")
    admin = ade_init(env)
    server = Server(env, tmp_path / "serve.log")
    work = Path(tempfile.mkdtemp(prefix="ade-readme-"))
    work.chmod(0o755)
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent)
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/zfill(5)/zfill(5).upper()/" "$1"\n')
    editor.chmod(0o755)
    script = readme_example()
    assert "ADMIN=ade_..." in script and "127.0.0.1:8000" in script
    script = script.replace("ADMIN=ade_...", f"ADMIN={admin}")
    shell_env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TMPDIR": str(work),
        "EDITOR": str(editor),
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_TERMINAL_PROMPT": "0",
        # ade run in the git section: its own data dir, never the server's.
        "ADE_DATA_DIR": str(tmp_path / "cli-data"),
        "ADE_LOG_LEVEL": "WARNING",
    }
    try:
        server.start()
        host = server.base.removeprefix("http://")
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace("127.0.0.1:8000", host)],
            cwd=work,
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=150,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out
        # What the example claims, checked on its output and files.
        assert '"status": "succeeded"' in proc.stdout, out  # dry-run and job
        assert '{"published":"1.0.0","deprecated":"1.0.1"}' in proc.stdout, out
        assert "draft -> draft" in proc.stderr, out  # the git push landed
        assert "Upper-case ZIP codes" in proc.stdout, out  # ... and is in history
        (out_xlsx,) = work.glob("tmp.*/out.xlsx")
        sheet = load_workbook(out_xlsx, read_only=True)["Normalized"]
        header = next(sheet.iter_rows(values_only=True))
        assert "Postal Code" in header, header
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)
