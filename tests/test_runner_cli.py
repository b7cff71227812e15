"""``ade run`` through click's CliRunner and as ``python -m runner.cli``: directory and
``repo.git@ref`` configs, the summary, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from runner.cli import run_command

pytestmark = pytest.mark.timeout(60)

MANIFEST = {
    "name": "CLI test",
    "sdk_version": "0.1.0",
    "min_score": 1.0,
    "columns": [
        {"key": "email", "label": "Email", "path": "columns/email.py", "ordinal": 1,
         "required": True, "enabled": True, "depends_on": []},
        {"key": "name", "label": "Name", "path": "columns/name.py", "ordinal": 2,
         "required": False, "enabled": True, "depends_on": []},
    ],
    "hints": {"header_row": None, "header_row_contains": [], "sample_rows": 100},
    "pins": {},
    "capabilities": {"allow_network": False, "allow_llm": False, "resources": {}},
}  # fmt: skip
EMAIL = """
def detect_header(*, header, **_):
    return 2.0 if header and "mail" in header.lower() else None

def detect_values(*, values, **_):
    return sum("@" in str(v) for v in values) / max(len(values), 1)

def validate(*, values, **_):
    return [{"row_index": i, "message": "not an email", "code": "bad_email"}
            for i, v in enumerate(values) if v and "@" not in str(v)]
"""
NAME = """
def detect_header(*, header, **_):
    return 1.5 if header and "name" in header.lower() else None

def transform_cell(*, value, **_):
    return value.strip().title() if isinstance(value, str) else value
"""


def write_config(root: Path, email: str = EMAIL) -> Path:
    (root / "columns").mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps(MANIFEST))
    (root / "columns" / "email.py").write_text(textwrap.dedent(email))
    (root / "columns" / "name.py").write_text(textwrap.dedent(NAME))
    return root


@pytest.fixture
def workbook(tmp_path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Roster"
    ws.append(["Member list 2024"])
    ws.append([])
    ws.append(["Full Name", "E-mail", "Notes"])
    for i in range(20):
        ws.append([f" alice {i} ", "nope" if i == 5 else f"a{i}@x.org", "n"])
    path = tmp_path / "input.xlsx"
    wb.save(path)
    return path


def invoke(*args: str):
    return CliRunner().invoke(run_command, [str(a) for a in args])


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def test_directory_config_runs_and_prints_summary(tmp_path, workbook):
    config = write_config(tmp_path / "cfg")
    out, report = tmp_path / "out.xlsx", tmp_path / "report.json"
    result = invoke("--config", config, workbook, "-o", out, "--report", report)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Roster A3:C23: header row 3, 20 rows" in lines
    assert any("E-mail" in line and "-> email (2.95)" in line for line in lines)
    assert any("Full Name" in line and "-> name (1.5)" in line for line in lines)
    assert "Issues: 1 (1 error)" in lines  # data issues do not fail the run
    data = json.loads(report.read_text())
    assert data["metrics"]["rows_processed"] == 20
    sheet = load_workbook(out, read_only=True)["Normalized"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Email", "Name")
    assert rows[1][:2] == ("a0@x.org", "Alice 0")


def test_repo_ref_runs_the_tree_at_that_ref(tmp_path, workbook):
    work = tmp_path / "work"
    write_config(work)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "v1")
    git(work, "tag", "-a", "v1.0.0", "-m", "publish")
    git(work, "checkout", "-q", "-b", "draft")
    (work / "columns" / "email.py").write_text("def detect_x(**_):\n    return 1 / 0\n")
    git(work, "commit", "-q", "-am", "broken draft")
    bare = tmp_path / "config.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))

    ok = invoke("--config", f"{bare}@v1.0.0", workbook)
    assert ok.exit_code == 0, ok.output
    assert "-> email (2.95)" in ok.output

    broken = invoke("--config", f"{bare}@draft", workbook)
    assert broken.exit_code == 1
    message = broken.output.strip()
    assert "\n" not in message
    assert message.startswith("Error: config script error: ")
    assert "columns/email.py" in message and "ZeroDivisionError" in message

    missing = invoke("--config", f"{bare}@v9.9.9", workbook)
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: cannot export")


def test_bad_input_and_bad_config_fail_with_one_line(tmp_path):
    config = write_config(tmp_path / "cfg")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"this is not a zip file")
    result = invoke("--config", config, junk)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: ")

    nowhere = invoke("--config", tmp_path / "nope", junk)
    assert nowhere.exit_code == 1
    assert nowhere.output.strip() == f"Error: config not found: {tmp_path / 'nope'}"


def test_timeout_flag_limits_the_run(tmp_path, workbook):
    config = write_config(
        tmp_path / "cfg",
        email="import time\n\ndef detect_x(**_):\n    time.sleep(100)\n",
    )
    result = invoke("--config", config, workbook, "--timeout", "1.5")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: time limit of 1.5 s exceeded"


def test_module_entry_point(tmp_path, workbook):
    config = write_config(tmp_path / "cfg")
    out = tmp_path / "out.xlsx"
    repo_root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "runner.cli", "--config", str(config), str(workbook),
         "-o", str(out), "--sample-rows", "5"],
        cwd=repo_root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "-> email" in proc.stdout
    assert out.stat().st_size > 0


SERVER_MODULES = """
import json, sys
from app.cli import main
try:
    main(["run", "--config", sys.argv[1], sys.argv[2], "-o", sys.argv[3]])
except SystemExit as stop:
    code = stop.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"flask", "sqlalchemy",
    "alembic", "werkzeug", "gunicorn", "celery", "app"})
print(json.dumps({"code": code, "heavy": heavy}))
"""


def test_ade_run_imports_nothing_of_the_server(tmp_path, workbook):
    """``ade run`` is dispatched before Flask, SQLAlchemy or alembic are imported:
    they cost most of a small run's time (issue 13)."""
    config = write_config(tmp_path / "cfg")
    repo_root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", SERVER_MODULES, str(config), str(workbook),
         str(tmp_path / "out.xlsx")],
        cwd=repo_root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen == {"code": 0, "heavy": ["app"]}  # app.cli itself, nothing else
