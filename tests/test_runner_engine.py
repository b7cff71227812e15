"""`runner.engine.run` end to end on real workbooks and real config packages."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from openpyxl import Workbook, load_workbook

from runner.context import ConfigError, ScriptError
from runner.engine import PHASES, run
from runner.extract import WorkbookError
from runner.report import MAX_FINDINGS, build_report
from tests.test_runner_pipeline_kit import header_detector, write_package

EMAIL = header_detector("email", "mail") + (
    "\n"
    "def detect_values(*, values, **_):\n"
    "    hits = sum('@' in str(v) for v in values)\n"
    "    if values and hits == len(values):\n"
    "        return {'email': 1.0, 'name': -1.0}\n"
    "\n"
    "def transform_column(*, values, **_):\n"
    "    return [v.strip().lower() if isinstance(v, str) else v for v in values]\n"
    "\n"
    "def validate(*, values, **_):\n"
    "    return [{'row_index': i, 'message': f'not an email: {v!r}', 'code': 'email'}\n"
    "            for i, v in enumerate(values) if v is not None and '@' not in v]\n"
)
NAME = header_detector("name", "name") + (
    "\n"
    "def transform_cell(*, value, ctx, **_):\n"
    "    ctx.state['cells'] = ctx.state.get('cells', 0) + 1\n"
    "    return value.title() if isinstance(value, str) else value\n"
)
JOINED = header_detector("joined", "joined", "since")
RUN = (
    "def run_end(*, ctx, **_):\n"
    "    ctx.log(f\"name cells: {ctx.state.get('cells')}\")\n"
)


def make_config(root, **manifest):
    return write_package(
        root,
        {"name": NAME, "email": EMAIL, "joined": JOINED, "phone": "X = 1\n"},
        entries={"phone": {"required": True}},
        files={"run.py": RUN},
        **manifest,
    )


def make_workbook(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Roster"
    ws.append(["Club roster"])
    ws.append(["exported 2024"])
    ws.append([])
    ws.append([None, "Member Name", "E-mail", "Joined", "Notes"])
    ws.append([None, "ada lovelace", " ADA@X.ORG ", dt.date(2020, 1, 5), "=1+1"])
    ws.append([None, "alan turing", "alan@x.org", dt.date(2021, 3, 9), None])
    ws.append([None, "grace hopper", "grace(at)x.org", dt.date(2019, 7, 1), "vip"])
    other = wb.create_sheet("Other")
    other.append(["Name", "Mail"])
    other.append(["linus", "linus@x.org"])
    wb.create_sheet("Skipped").append(["Name", "Mail"])
    wb["Skipped"].append(["nobody", "no@x.org"])
    wb.save(path)
    return path


@pytest.fixture
def files(tmp_path):
    hints = {"header_row": None, "sheets": {"include": [], "exclude": ["Skip*"]}}
    return (
        make_config(tmp_path / "cfg", hints=hints),
        make_workbook(tmp_path / "in.xlsx"),
    )


def test_report_has_the_spec_shape_and_content(files, tmp_path):
    cfg, book = files
    seen = []
    report = run(cfg, book, tmp_path / "out.xlsx", progress=lambda p, r: seen.append(p))
    assert list(report) == ["tables", "findings", "logs", "metrics", "preview"]
    roster = [t for t in report["tables"] if t["rows"]][0]
    assert list(roster) == [
        "sheet", "range", "header_row", "header_rows", "columns", "unmapped_fields",
        "rows", "data_rows", "header_choice",
    ]  # fmt: skip
    assert roster["sheet"] == "Roster"
    assert roster["range"] == "B4:E7"
    assert (roster["header_row"], roster["header_rows"]) == (4, [4, 4])
    assert roster["rows"] == 3 and roster["data_rows"] == [[5, 7]]
    choice = roster["header_choice"]
    assert choice["by"] == "layout"
    assert choice["candidates"][0] == {
        "header_row": 4, "header_rows": [4, 4], "layout": choice["candidates"][0][
            "layout"], "fields": 3.0,
    }  # fmt: skip
    assert None in [c["header_row"] for c in choice["candidates"]]  # "no header"
    title = report["tables"][0]
    assert (title["rows"], title["data_rows"], title["header_choice"]) == (0, [], None)
    assert roster["unmapped_fields"] == ["phone"]
    assert [(c["column"], c["header"], c["field"]) for c in roster["columns"]] == [
        ("B", "Member Name", "name"),
        ("C", "E-mail", "email"),
        ("D", "Joined", "joined"),
        ("E", "Notes", None),
    ]
    email = roster["columns"][1]
    assert list(email) == ["column", "header", "field", "score", "features", "scores"]
    assert email["score"] == 1.0 and email["features"] == 1  # 2 of 3 look like email
    assert email["scores"] == {"name": 0.0, "email": 1.0, "joined": 0.0, "phone": 0.0}
    other = [t for t in report["tables"] if t["sheet"] == "Other"][0]
    assert other["columns"][1]["scores"]["email"] == 2.0
    assert other["columns"][1]["features"] == 2
    assert other["columns"][1]["scores"]["name"] == -1.0
    assert {t["sheet"] for t in report["tables"]} == {"Roster", "Other"}
    assert report["findings"] == [
        {"sheet": "Roster", "row": None, "field": "phone", "code": "required_missing",
         "severity": "error",
         "message": "required field 'Phone' (phone) matched no column"},
        {"sheet": "Roster", "row": 7, "field": "email", "code": "email",
         "severity": "error", "message": "not an email: 'grace(at)x.org'"},
        {"sheet": "Other", "row": None, "field": "phone", "code": "required_missing",
         "severity": "error",
         "message": "required field 'Phone' (phone) matched no column"},
    ]  # fmt: skip
    assert report["logs"] == ["name cells: 4"]
    metrics = dict(report["metrics"])
    assert metrics.pop("elapsed_ms") >= 0
    assert metrics == {
        "sheets_scanned": 2, "tables_found": len(report["tables"]),
        "rows_processed": 4, "columns_mapped": 5, "issues": 3,
    }  # fmt: skip
    phases = [p for i, p in enumerate(seen) if i == 0 or seen[i - 1] != p]
    assert phases == [*PHASES, "done"]


def test_output_workbook_cells(files, tmp_path):
    cfg, book = files
    run(cfg, book, tmp_path / "out.xlsx")
    wb = load_workbook(tmp_path / "out.xlsx")
    assert [list(r) for r in wb["Normalized"].values] == [
        ["Name", "Email", "Joined", "Phone", "source_sheet", "source_row"],
        ["Ada Lovelace", "ada@x.org", dt.datetime(2020, 1, 5), None, "Roster", 5],
        ["Alan Turing", "alan@x.org", dt.datetime(2021, 3, 9), None, "Roster", 6],
        ["Grace Hopper", "grace(at)x.org", dt.datetime(2019, 7, 1), None, "Roster", 7],
        ["Linus", "linus@x.org", None, None, "Other", 2],
    ]
    issues = [list(r) for r in wb["Issues"].values]
    assert issues[0] == ["sheet", "row", "field", "code", "severity", "message"]
    assert len(issues) == 4


def test_same_input_same_report_and_same_output(files, tmp_path):
    cfg, book = files
    first = run(cfg, book, tmp_path / "a.xlsx")
    second = run(cfg, book, tmp_path / "b.xlsx")
    for report in (first, second):
        report["metrics"]["elapsed_ms"] = 0
    assert first == second
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_dry_run_writes_nothing(files, tmp_path, monkeypatch):
    cfg, book = files
    (cfg / "columns" / "util.py").write_text("X = 1\n")
    (cfg / "columns" / "joined.py").write_text(
        JOINED + "def prepare(**_):\n    from . import util\n    return util.X\n"
    )
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # CI may set it
    before = sorted(tmp_path.rglob("*"))
    report = run(cfg, book, None, sample_rows=1)
    assert sorted(tmp_path.rglob("*")) == before  # no output, no __pycache__
    assert report["metrics"]["rows_processed"] == 4


def test_hints_choose_sheets_and_the_header_row(tmp_path):
    hints = {"header_row_contains": ["notes"], "sheets": {"include": ["roster"]}}
    cfg = make_config(tmp_path / "cfg", hints=hints)
    report = run(cfg, make_workbook(tmp_path / "in.xlsx"), None)
    assert [(t["sheet"], t["header_row"]) for t in report["tables"] if t["rows"]] == [
        ("Roster", 4)
    ]
    assert report["metrics"]["sheets_scanned"] == 1


def test_errors_surface_as_their_own_types(files, tmp_path):
    cfg, book = files
    (cfg / "columns" / "name.py").write_text(
        "def detect(*, values, **_):\n    return int(values[0])\n"
    )
    with pytest.raises(ScriptError) as err:
        run(cfg, book, None)
    assert str(err.value).startswith("columns/name.py:2 in detect(): ValueError:")
    not_xlsx = tmp_path / "notes.xlsx"
    not_xlsx.write_text("hello")
    with pytest.raises(WorkbookError):
        run(make_config(tmp_path / "ok"), not_xlsx, None)
    with pytest.raises(ConfigError):
        run(tmp_path / "nowhere", book, None)


def test_report_lists_at_most_max_findings_but_counts_all():
    findings = [{"sheet": "S", "row": i} for i in range(MAX_FINDINGS + 5)]
    report = build_report([], findings, ["x"], sheets_scanned=1, elapsed_ms=3)
    assert len(report["findings"]) == MAX_FINDINGS
    assert report["metrics"]["issues"] == MAX_FINDINGS + 5
    assert report["logs"][-1].startswith("5 more findings are in the Issues sheet")


def test_report_does_not_depend_on_the_hash_seed(files, tmp_path):
    cfg, book = files
    script = (
        "import json, sys; from runner.engine import run; "
        "r = run(sys.argv[1], sys.argv[2], None); r['metrics']['elapsed_ms'] = 0; "
        "print(json.dumps(r))"
    )
    reports = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script, str(cfg), str(book)],
            env=env, capture_output=True, text=True, check=True, timeout=60,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )  # fmt: skip
        reports.append(json.loads(out.stdout))
    assert reports[0] == reports[1]
    assert reports[0]["metrics"]["columns_mapped"] == 5
