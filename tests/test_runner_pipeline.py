"""The pipeline phases on real config packages and hand-built tables.

Config packages are written into `tmp_path`; tables are built directly (the extract
phase has its own tests), and every phase after extract runs through
`runner.engine.process`, the same code `runner.engine.run` uses.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest

from runner.context import ConfigError, ScriptError
from runner.engine import process
from runner.package import load_package
from tests.test_runner_pipeline_kit import (
    FakeExtraction,
    header_detector,
    make_table,
    write_package,
)


def run_tables(cfg, *tables, **kwargs):
    pkg = load_package(cfg)
    try:
        return process(pkg, FakeExtraction(1, list(tables)), None, **kwargs)
    finally:
        pkg.unload()


def mapping_of(report, table=0):
    return {c["column"]: c["field"] for c in report["tables"][table]["columns"]}


ROSTER = make_table(
    ["Member #", "E-mail", "Phone", "Notes"],
    [[1, "a@x.org", "555-1234", None], [2, "b@x.org", None, "vip"]],
    header_row=3,
)


def roster_package(tmp_path, **kwargs):
    return write_package(
        tmp_path / "cfg",
        {
            "member_id": header_detector("member_id", "member", weight=2.0),
            "email": header_detector("email", "mail"),
            "phone": header_detector("phone", "phone", "tel"),
        },
        **kwargs,
    )


# --- package loading -------------------------------------------------------------


def test_package_loads_hooks_detectors_and_relative_imports(tmp_path):
    cfg = write_package(
        tmp_path / "cfg",
        {
            "email": """
            from .helpers import looks_like_email

            def detect_values(*, values, **_):
                return sum(map(looks_like_email, values)) / max(len(values), 1)

            def detect_header(*, header, **_):
                return 1 if header == "E-mail" else None

            def detector_is_not_a_prefix_match_but_counts(**_):
                return None

            def helper_not_a_detector(**_):
                raise AssertionError("never called")

            detect_constant = 3  # not a function
            """,
        },
        files={
            "columns/helpers.py": "def looks_like_email(v):\n    return '@' in str(v)\n"
        },
    )
    pkg = load_package(cfg)
    try:
        (field,) = pkg.fields
        assert [d.name for d in field.detectors] == [
            "detect_header",
            "detect_values",
            "detector_is_not_a_prefix_match_but_counts",
        ]
        report = process(pkg, FakeExtraction(1, [ROSTER]), None)
    finally:
        pkg.unload()
    email = report["tables"][0]["columns"][1]
    assert (email["field"], email["score"], email["features"]) == ("email", 2.0, 2)
    assert not list(cfg.rglob("__pycache__"))


def test_two_packages_never_share_modules(tmp_path):
    one = write_package(tmp_path / "one", {"email": "def detect(**_):\n    return 1\n"})
    two = write_package(tmp_path / "two", {"email": "def detect(**_):\n    return 5\n"})
    a, b = load_package(one), load_package(two)
    assert a.fields[0].detectors[0].fn(header=None) == 1
    assert b.fields[0].detectors[0].fn(header=None) == 5
    a.unload()
    b.unload()


def test_bad_manifest_is_a_config_error_listing_every_problem(tmp_path):
    cfg = roster_package(tmp_path, min_score="x", colour="red")
    with pytest.raises(ConfigError) as err:
        load_package(cfg)
    assert "min_score: must be a number" in str(err.value)
    assert "colour: unknown top-level key" in str(err.value)
    (cfg / "manifest.json").write_text("{nope")
    with pytest.raises(ConfigError, match="manifest.json: not valid JSON"):
        load_package(cfg)
    (cfg / "manifest.json").unlink()
    with pytest.raises(ConfigError, match="manifest.json: not found"):
        load_package(cfg)


def test_script_that_fails_to_import_is_a_script_error(tmp_path):
    cfg = write_package(tmp_path / "a", {"email": "def detect(**_):\n  return (\n"})
    with pytest.raises(ScriptError, match=r"columns/email.py:2: SyntaxError"):
        load_package(cfg)
    cfg = write_package(tmp_path / "b", {"email": "x = 1\nraise KeyError('boom')\n"})
    with pytest.raises(ScriptError) as err:
        load_package(cfg)
    assert str(err.value) == "columns/email.py:2 in <module>(): KeyError: 'boom'"


def test_disabled_columns_are_not_loaded_or_mapped(tmp_path):
    cfg = roster_package(tmp_path, entries={"phone": {"enabled": False}})
    (cfg / "columns" / "phone.py").write_text("raise RuntimeError('not loaded')\n")
    report = run_tables(cfg, ROSTER)
    assert mapping_of(report)["C"] is None
    assert list(report["tables"][0]["columns"][0]["scores"]) == ["member_id", "email"]


# --- hooks: arguments, errors ------------------------------------------------------

STRICT = """
SEEN = []

def prepare(*, field, manifest, ctx):
    ctx.state.setdefault("order", []).append(field["key"])
    return {"prefix": field["key"][:1]}

def detect_strict(*, header, values, column_index, sheet, field, state, ctx):
    assert isinstance(values, list) and None not in values
    ctx.log(f"{field['key']} saw {sheet}:{column_index}:{header}:{len(values)}")
    return 1 if header and header.lower().startswith(field["key"][:3]) else None

def transform_cell(*, value, row_index, field, state, ctx):
    return None if value is None else f"{state['prefix']}{row_index}:{value}"

def validate(*, values, field, state, ctx):
    return [{"row_index": 1, "message": f"checked {field['key']}",
             "severity": "warning"}]
"""

RUN = """
def run_start(*, ctx, manifest):
    ctx.log("start " + manifest["name"])
    ctx.state["started"] = True

def run_end(*, ctx):
    ctx.log("end " + ",".join(ctx.state["order"]) + f" {ctx.state['started']}")
"""

TABLE = """
def transform_table(*, table, manifest, ctx):
    return {k: [v.upper() if isinstance(v, str) else v for v in vs]
            for k, vs in table.items()}
"""

TABLE_VALIDATORS = """
def validate_table(*, table, manifest, ctx):
    return [{"message": "table checked", "code": "table", "field": "phone"},
            {"row_index": 0, "message": "first row"}]
"""


def test_hooks_get_exactly_their_keyword_arguments(tmp_path):
    cfg = write_package(
        tmp_path / "cfg",
        {"phone": STRICT, "member": STRICT},
        entries={"phone": {"depends_on": ["member"]}},
        files={
            "run.py": RUN,
            "table/transform.py": TABLE,
            "table/validators.py": TABLE_VALIDATORS,
        },
    )
    report = run_tables(cfg, ROSTER)
    assert mapping_of(report) == {"A": "member", "B": None, "C": "phone", "D": None}
    logs = report["logs"]
    assert logs[0] == "start Test config"
    assert "member saw Sheet1:0:Member #:2" in logs
    assert "phone saw Sheet1:3:Notes:1" in logs
    assert logs[-1] == "end member,phone True"  # prepare ran in depends_on order
    assert report["findings"] == [
        {"sheet": "Sheet1", "row": 5, "field": "member", "code": "invalid",
         "severity": "warning", "message": "checked member"},
        {"sheet": "Sheet1", "row": 5, "field": "phone", "code": "invalid",
         "severity": "warning", "message": "checked phone"},
        {"sheet": "Sheet1", "row": None, "field": "phone", "code": "table",
         "severity": "error", "message": "table checked"},
        {"sheet": "Sheet1", "row": 4, "field": None, "code": "invalid",
         "severity": "error", "message": "first row"},
    ]  # fmt: skip


def test_transforms_are_applied_in_order(tmp_path, tmp_path_factory):
    cfg = write_package(
        tmp_path / "cfg",
        {"phone": STRICT, "member": STRICT},
        files={"table/transform.py": TABLE},
    )
    out = tmp_path / "out.xlsx"
    pkg = load_package(cfg)
    try:
        process(pkg, FakeExtraction(1, [ROSTER]), out)
    finally:
        pkg.unload()
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.values)
    assert rows == [
        ("Phone", "Member", "source_sheet", "source_row"),
        ("P0:555-1234", "M0:1", "Sheet1", 4),
        (None, "M1:2", "Sheet1", 5),
    ]


def test_transform_column_is_preferred_over_transform_cell(tmp_path):
    cfg = write_package(
        tmp_path / "cfg",
        {
            "email": header_detector("email", "mail")
            + "def transform_column(*, values, **_):\n"
            "    return [len(values)] * len(values)\n"
            "def transform_cell(**_):\n    raise AssertionError('not used')\n"
            "def validate(*, values, **_):\n"
            "    return [{'row_index': 0, 'message': repr(values)}]\n"
        },
    )
    report = run_tables(cfg, ROSTER)
    assert report["findings"][0]["message"] == "[2, 2]"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "def detect(**_):\n    return {}['x']\n",
            "columns/email.py:2 in detect(): KeyError: 'x'",
        ),
        (
            "def detect(**_):\n    return 1\n\n"
            "def transform_column(*, values, **_):\n    return values[:-1]\n",
            "columns/email.py:4 in transform_column(): returned 1 values for a list; "
            "expected 2",
        ),
        (
            "def detect(**_):\n    raise SystemExit(3)\n",
            "columns/email.py:2 in detect(): SystemExit: 3",
        ),
        (
            "def detect(**_):\n    return 'high'\n",
            "columns/email.py:1 in detect(): returned 'high'; expected a number, a "
            "{field_key: delta} dict or None",
        ),
        (
            "def detect(**_):\n    return {'emial': 1}\n",
            "columns/email.py:1 in detect(): returned a delta for unknown field "
            "'emial'",
        ),
        (
            "def detect(**_):\n    return 1\n\n"
            "def validate(**_):\n    return [{'row_index': 9, 'message': 'x'}]\n",
            "columns/email.py:4 in validate(): issue 0 has row_index 9; expected "
            "0..1 or None",
        ),
    ],
)
def test_a_failing_column_hook_is_a_script_error(tmp_path, source, expected):
    cfg = write_package(tmp_path / "cfg", {"email": source})
    with pytest.raises(ScriptError) as err:
        run_tables(cfg, ROSTER)
    assert str(err.value) == expected


def test_script_error_names_the_helper_line_that_raised(tmp_path):
    cfg = write_package(
        tmp_path / "cfg",
        {"email": "from .util import check\n\ndef detect(*, header, **_):\n"
                  "    return check(header)\n"},
        files={"columns/util.py": "def check(h):\n    x = 1\n    return 1 / 0\n"},
    )  # fmt: skip
    with pytest.raises(ScriptError) as err:
        run_tables(cfg, ROSTER)
    assert str(err.value) == (
        "columns/util.py:3 in detect(): ZeroDivisionError: division by zero"
    )


def test_a_failing_transform_cell_names_file_line_and_row(tmp_path):
    """The per-cell loop calls the hook without a wrapper per call; an error still
    names the file, the line and the row that raised."""
    cfg = write_package(
        tmp_path / "cfg",
        {"email": "def detect(**_):\n    return 1\n\n"
                  "def transform_cell(*, value, row_index, **_):\n"
                  "    if row_index == 1:\n"
                  "        raise ValueError(f'bad {value}')\n"
                  "    return value\n"},
    )  # fmt: skip
    with pytest.raises(ScriptError) as err:
        run_tables(cfg, ROSTER)
    assert str(err.value).startswith(
        "columns/email.py:6 in transform_cell(): ValueError: bad "
    )
    assert str(err.value).endswith("(row_index 1)")


def test_run_and_table_hooks_errors_are_script_errors(tmp_path):
    cfg = roster_package(
        tmp_path,
        files={"run.py": "def run_start(**_):\n    pass\n\n"
                         "def run_end(**_):\n    raise ValueError('bye')\n"},
    )  # fmt: skip
    with pytest.raises(ScriptError, match=r"^run.py:5 in run_end\(\): ValueError: bye"):
        run_tables(cfg, ROSTER)
    cfg = roster_package(
        tmp_path / "b",
        files={
            "table/transform.py": "def transform_table(*, table, **_):\n"
            "    return {**table, 'extra': []}\n"
        },
    )
    with pytest.raises(ScriptError, match="extra fields \\['extra'\\]"):
        run_tables(cfg, ROSTER)


# --- detect and map ----------------------------------------------------------------


def test_detectors_see_at_most_sample_rows_non_empty_values(tmp_path):
    source = (
        "def detect(*, values, ctx, **_):\n    ctx.log(len(values))\n    return None\n"
    )
    table = make_table(["A"], [[None], *[[i] for i in range(150)]])
    cfg = write_package(tmp_path / "a", {"x": source})
    assert run_tables(cfg, table)["logs"] == ["100"]
    assert run_tables(cfg, table, sample_rows=7)["logs"] == ["7"]
    hints = {"header_row": None, "sample_rows": 20}
    cfg = write_package(tmp_path / "b", {"x": source}, hints=hints)
    assert run_tables(cfg, table)["logs"] == ["20"]


def test_dict_deltas_touch_other_fields_and_count_as_features(tmp_path):
    cfg = write_package(
        tmp_path / "cfg",
        {
            "first": "def detect_a(*, header, **_):\n"
            "    return {'first': 1.5, 'second': -1} if header == 'Name' else 0\n"
            "def detect_b(*, header, **_):\n"
            "    return {'first': 0, 'second': 0.25}\n",
            "second": "def detect(*, header, **_):\n"
            "    return 2.0 if header == 'Name' else None\n",
        },
        min_score=0.5,
    )
    table = make_table(["Name", "Other"], [["x", "y"]])
    report = run_tables(cfg, table)
    name, other = report["tables"][0]["columns"]
    assert name["scores"] == {"first": 1.5, "second": 1.25}
    assert (name["field"], name["score"], name["features"]) == ("first", 1.5, 1)
    assert other["scores"] == {"first": 0.0, "second": 0.25}
    assert other["field"] is None


def test_min_score_from_the_manifest(tmp_path):
    cfg = roster_package(tmp_path, min_score=1.5)
    assert mapping_of(run_tables(cfg, ROSTER)) == {
        "A": "member_id", "B": None, "C": None, "D": None,
    }  # fmt: skip


def test_required_field_without_a_column_is_a_table_issue(tmp_path):
    cfg = roster_package(tmp_path, entries={"phone": {"required": True}})
    table = make_table(["Member #", "E-mail"], [[1, "a@x"]], sheet="S")
    report = run_tables(cfg, table)
    assert report["findings"] == [
        {"sheet": "S", "row": None, "field": "phone", "code": "required_missing",
         "severity": "error",
         "message": "required field 'Phone' (phone) matched no column"},
    ]  # fmt: skip
    assert report["tables"][0]["unmapped_fields"] == ["phone"]
    empty = make_table(["Title"], [], sheet="S")  # no data rows: maps nothing
    assert run_tables(cfg, empty)["findings"] == []


def test_tables_without_rows_are_reported_but_not_detected(tmp_path):
    cfg = write_package(
        tmp_path / "cfg", {"x": "def detect(**_):\n    raise AssertionError\n"}
    )
    report = run_tables(cfg, make_table(["Title"], [], header_row=2))
    (table,) = report["tables"]
    assert table["rows"] == 0 and table["header_row"] == 2
    assert table["columns"][0]["field"] is None


# --- order independence ------------------------------------------------------------

TIES = {
    # Everything ties with everything: only the tie-break rules decide.
    "alpha": "def detect_b(*, header, **_):\n    return 1.0 if header else None\n"
    "def detect_a(*, values, **_):\n    return 1.0 if values else None\n",
    "beta": "def detect_a(*, header, **_):\n    return 1.0 if header else None\n"
    "def detect_b(*, values, **_):\n    return {'beta': 1.0, 'gamma': 0.5}\n",
    "gamma": "def detect(*, header, values, **_):\n"
    "    return 2.0 if header in ('C', 'D') else 1.5\n",
}


def permuted_table(table, order):
    return type(table)(
        sheet=table.sheet,
        header_rows=table.header_rows,
        columns=tuple(table.columns[j] for j in order),
        headers=tuple(table.headers[j] for j in order),
        rows=[[row[j] for j in order] for row in table.rows],
        row_numbers=table.row_numbers,
        range=table.range,
    )


def reversed_functions(source):
    """The same module with its top-level functions defined in reverse order."""
    blocks = ["def " + b for b in source.split("def ") if b]
    return "".join(reversed(blocks))


def permuted_package(root, keys, flip=False):
    """The TIES package with columns listed (not numbered) in `keys` order and,
    with `flip`, every file's detectors defined in reverse order."""
    sources = {k: reversed_functions(TIES[k]) if flip else TIES[k] for k in keys}
    cfg = write_package(root, sources)
    manifest = json.loads((cfg / "manifest.json").read_text())
    for entry in manifest["columns"]:
        entry["ordinal"] = sorted(TIES).index(entry["key"]) + 1
    (cfg / "manifest.json").write_text(json.dumps(manifest))
    return cfg


def test_report_is_the_same_for_every_permutation(tmp_path):
    table = make_table(
        ["A", "B", "C", "D"], [["a", "b", "c", "d"], [1, 2, 3, 4]], columns=(1, 2, 4, 6)
    )
    expected = None
    for n, keys in enumerate(itertools.permutations(sorted(TIES))):
        cfg = permuted_package(tmp_path / f"cfg{n}", keys, flip=n % 2 == 1)
        for order in itertools.permutations(range(4)):
            report = run_tables(cfg, permuted_table(table, order))
            report["metrics"]["elapsed_ms"] = 0
            if expected is None:
                expected = report
            assert report == expected, (keys, order)
    assert mapping_of(expected) == {"B": "alpha", "C": "beta", "E": "gamma", "G": None}


def test_randomised_larger_tables_map_the_same_in_any_order(tmp_path):
    rnd = random.Random(5)
    keys = [f"f{i:02d}" for i in range(8)]
    sources = {
        k: "def detect(*, header, **_):\n"
        f"    return {{{', '.join(repr(h) + ': ' + str(rnd.choice([1, 2, 2, 3])) for h in rnd.sample(range(12), 6))}}}.get(int(header))\n"  # noqa: E501
        for k in keys
    }
    table = make_table([str(i) for i in range(12)], [list(range(12))] * 3)
    expected = None
    for n in range(6):
        order = list(range(12))
        rnd.shuffle(order)
        listed = list(keys)
        rnd.shuffle(listed)
        cfg = write_package(tmp_path / f"c{n}", {k: sources[k] for k in listed})
        manifest = json.loads((cfg / "manifest.json").read_text())
        for entry in manifest["columns"]:
            entry["ordinal"] = keys.index(entry["key"]) + 1
        (cfg / "manifest.json").write_text(json.dumps(manifest))
        report = run_tables(cfg, permuted_table(table, order))
        report["metrics"]["elapsed_ms"] = 0
        expected = expected or report
        assert report == expected
    assert sum(c["field"] is not None for c in expected["tables"][0]["columns"]) == 8


def test_a_package_without_columns_still_runs(tmp_path):
    cfg = write_package(tmp_path / "cfg", {})
    pkg = load_package(cfg)
    try:
        report = process(pkg, FakeExtraction(1, [ROSTER]), tmp_path / "out.xlsx")
    finally:
        pkg.unload()
    assert report["tables"][0]["unmapped_fields"] == []
    assert {c["field"] for c in report["tables"][0]["columns"]} == {None}
    from openpyxl import load_workbook

    rows = list(load_workbook(tmp_path / "out.xlsx")["Normalized"].values)
    assert rows == [("source_sheet", "source_row"), ("Sheet1", 4), ("Sheet1", 5)]


def test_logs_are_capped_and_long_lines_cut(tmp_path):
    cfg = roster_package(
        tmp_path,
        files={
            "run.py": "def run_start(*, ctx, **_):\n"
            "    ctx.log('x' * 5000)\n"
            "    for i in range(1500):\n"
            "        ctx.log(i)\n"
        },
    )
    logs = run_tables(cfg, ROSTER)["logs"]
    assert len(logs) == 1001
    assert logs[0] == "x" * 2000 + "…"
    assert logs[1:3] == ["0", "1"]
    assert logs[-1] == "... 501 more log lines dropped"
