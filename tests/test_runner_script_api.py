"""SPEC §5 script API: every hook gets exactly the keyword arguments of the table.

One config whose hooks take ``**kw`` and log what they got, run through
``runner.engine.run`` on a real workbook whose table starts in column B.
"""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

from runner import guardrails, script_api
from runner.context import Context
from runner.engine import run
from runner.scaffold import scaffold_files
from tests.test_runner_pipeline_kit import write_package

RECORD = """
import json

def record(hook, kw, **extra):
    ctx = kw["ctx"]
    ctx.log(json.dumps({
        "hook": hook,
        "kwargs": sorted(kw),
        "ctx": [callable(ctx.log), isinstance(ctx.state, dict), ctx.sheet,
                ctx.table is not None],
        **extra,
    }, default=str))
"""
ZIP = (
    RECORD
    + """
def prepare(**kw):
    kw["ctx"].state.setdefault("prepared", []).append("zip")
    record("prepare", kw, field=kw["field"], manifest=kw["manifest"]["name"])
    return {"state_of": "zip"}

def detect_header(**kw):
    record("detect_header", kw, header=kw["header"], values=kw["values"],
           column_index=kw["column_index"], sheet=kw["sheet"],
           field=kw["field"]["key"], state=kw["state"])
    return 1.0 if kw["header"] == "Zip" else None

def detect_values(**kw):
    record("detect_values", kw)
    return {"member": 0.5} if kw["header"] == "Member #" else None

def transform_column(**kw):
    record("transform_column", kw, values=kw["values"], state=kw["state"],
           field=kw["field"]["key"])
    return [str(v) for v in kw["values"]]

def transform_cell(**kw):
    record("transform_cell_never", kw)

def validate(**kw):
    record("validate", kw, values=kw["values"], state=kw["state"],
           field=kw["field"]["key"])
    return [{"row_index": 1, "message": "checked"}]
"""
)
MEMBER = (
    RECORD
    + """
def prepare(**kw):
    kw["ctx"].state.setdefault("prepared", []).append("member")
    record("prepare", kw, field=kw["field"], manifest=kw["manifest"]["name"])
    return {"state_of": "member"}

def detect_header(**kw):
    return 1.0 if kw["header"] == "Member #" else None

def transform_cell(**kw):
    record("transform_cell", kw, value=kw["value"], row_index=kw["row_index"],
           state=kw["state"], field=kw["field"]["key"])
    return kw["value"]
"""
)
RUN = (
    RECORD
    + """
def run_start(**kw):
    record("run_start", kw, manifest=kw["manifest"]["name"])

def run_end(**kw):
    record("run_end", kw, prepared=kw["ctx"].state["prepared"])
"""
)
TRANSFORM = (
    RECORD
    + """
def transform_table(**kw):
    record("transform_table", kw, table=kw["table"], order=list(kw["table"]),
           manifest=kw["manifest"]["name"])
    return kw["table"]
"""
)
VALIDATORS = (
    RECORD
    + """
def validate_table(**kw):
    record("validate_table", kw, table=kw["table"], manifest=kw["manifest"]["name"])
    return []
"""
)


def _workbook(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Roster"
    ws.append(["Title of the roster"])
    ws.append([])
    ws.append([None, "Member #", "Zip"])
    ws.append([None, 7, 1011])
    ws.append([None, 8, None])
    ws.append([None, 9, 2022])
    wb.save(path)


def test_every_hook_gets_the_keyword_arguments_of_the_spec(tmp_path):
    cfg = write_package(
        tmp_path / "cfg",
        {"zip": ZIP, "member": MEMBER},
        entries={
            "zip": {"depends_on": ["member"], "synonyms": ["postal"], "country": "NL"}
        },
        files={
            "startup.py": "raise RuntimeError('startup.py must not run in v1')\n",
            "run.py": RUN,
            "table/transform.py": TRANSFORM,
            "table/validators.py": VALIDATORS,
        },
        table={
            "transform": {"path": "table/transform.py"},
            "validators": {"path": "table/validators.py"},
        },
    )
    _workbook(tmp_path / "in.xlsx")
    report = run(cfg, tmp_path / "in.xlsx", tmp_path / "out.xlsx")
    calls = [json.loads(line) for line in report["logs"]]
    by_hook: dict[str, list[dict]] = {}
    for call in calls:
        by_hook.setdefault(call["hook"], []).append(call)

    # run_start(*, ctx, manifest) first, run_end(*, ctx) last.
    assert calls[0] == {
        "hook": "run_start",
        "kwargs": ["ctx", "manifest"],
        "ctx": [True, True, None, False],
        "manifest": "Test config",
    }
    assert calls[-1]["hook"] == "run_end"
    assert calls[-1]["kwargs"] == ["ctx"]
    assert calls[-1]["prepared"] == ["member", "zip"]  # depends_on order

    # prepare(*, field, manifest, ctx): field is the whole manifest entry.
    zip_prepare = [c for c in by_hook["prepare"] if c["field"]["key"] == "zip"]
    assert [c["kwargs"] for c in by_hook["prepare"]] == [
        ["ctx", "field", "manifest"]
    ] * 2
    assert zip_prepare[0]["field"] == {
        "key": "zip",
        "label": "Zip",
        "path": "columns/zip.py",
        "ordinal": 1,
        "required": False,
        "enabled": True,
        "depends_on": ["member"],
        "synonyms": ["postal"],
        "country": "NL",
    }

    # detect*: once per physical column of the table, every detect* function.
    detect_kwargs = ["column_index", "ctx", "field", "header", "sheet", "state",
                     "values"]  # fmt: skip
    assert [c["kwargs"] for c in by_hook["detect_values"]] == [detect_kwargs] * 2
    assert [
        (c["header"], c["values"], c["column_index"], c["sheet"], c["state"])
        for c in by_hook["detect_header"]
    ] == [
        ("Member #", [7, 8, 9], 1, "Roster", {"state_of": "zip"}),
        ("Zip", [1011, 2022], 2, "Roster", {"state_of": "zip"}),  # non-empty only
    ]
    assert by_hook["detect_header"][0]["ctx"] == [True, True, "Roster", True]

    # transform_column(*, values, field, state, ctx) is preferred to transform_cell.
    (tc,) = by_hook["transform_column"]
    assert tc["kwargs"] == ["ctx", "field", "state", "values"]
    assert tc["values"] == [1011, None, 2022]  # the whole column
    assert tc["state"] == {"state_of": "zip"}
    assert "transform_cell_never" not in by_hook

    # transform_cell(*, value, row_index, field, state, ctx), per cell.
    assert [
        (c["kwargs"], c["value"], c["row_index"], c["state"], c["field"])
        for c in by_hook["transform_cell"]
    ] == [
        (["ctx", "field", "row_index", "state", "value"], v, i, {"state_of": "member"},
         "member")
        for i, v in enumerate([7, 8, 9])
    ]  # fmt: skip

    # transform_table(*, table, manifest, ctx): {field: list} in ordinal order.
    (tt,) = by_hook["transform_table"]
    assert tt["kwargs"] == ["ctx", "manifest", "table"]
    assert tt["order"] == ["zip", "member"]
    assert tt["table"] == {"zip": ["1011", "None", "2022"], "member": [7, 8, 9]}

    # validate(*, values, field, state, ctx) after the transforms.
    (val,) = by_hook["validate"]
    assert val["kwargs"] == ["ctx", "field", "state", "values"]
    assert val["values"] == ["1011", "None", "2022"]

    # validate_table(*, table, manifest, ctx).
    (vt,) = by_hook["validate_table"]
    assert vt["kwargs"] == ["ctx", "manifest", "table"]
    assert vt["ctx"] == [True, True, "Roster", True]

    order = [c["hook"] for c in calls]
    assert order.index("validate_table") > order.index("validate")
    assert report["findings"] == [
        {"sheet": "Roster", "row": 5, "field": "zip", "code": "invalid",
         "severity": "error", "message": "checked"}
    ]  # fmt: skip

    # The one description the API serves, the docs render and the editor completes
    # from (runner/script_api.py) names exactly these arguments, for every hook.
    described = {h.name: sorted(a.name for a in h.args) for h in script_api.HOOKS}
    seen = set()
    for call in calls:
        hook = script_api.hook_named(call["hook"])
        assert hook is not None, call["hook"]
        assert call["kwargs"] == described[hook.name], call["hook"]
        seen.add(hook.name)
    assert seen == set(described)


def test_the_description_names_every_ctx_member_and_field_key():
    ctx = Context({"columns": []})
    public = {n for n in vars(ctx) if not n.startswith("_")} | {"log"}
    # `logs` is the engine's buffer behind log(); hooks use log().
    assert {m.name for m in script_api.CTX_MEMBERS} == public - {"logs"}
    entry = json.loads(scaffold_files("T")["manifest.json"])["columns"][0]
    assert {m.name for m in script_api.FIELD_KEYS} == set(entry)
    # The import allow-list is the guardrails' own.
    described = script_api.describe()
    assert set(described["imports"]) == set(guardrails.ALLOWED_MODULES) - {"__future__"}
    assert set(described["forbidden_calls"]) == set(guardrails.FORBIDDEN_CALLS)


def test_docs_script_api_md_is_rendered_from_the_description():
    docs = Path(__file__).resolve().parents[1] / "docs" / "script-api.md"
    assert docs.read_text() == script_api.markdown(), (
        "docs/script-api.md is stale: run `ade script-api > docs/script-api.md`"
    )
