"""Manifest validation (SPEC §5), rule by rule, and the plan's topological order."""

from __future__ import annotations

import copy

import pytest

from runner.manifest import CycleError, topo_order, validate_manifest

PATHS = {
    "manifest.json",
    "columns/postal_code.py",
    "columns/member_id.py",
    "columns/notes.txt",
    "table/transform.py",
    "table/validators.py",
    "lib/helpers.py",
}


def good() -> dict:
    return {
        "name": "Optima Roster",
        "sdk_version": "0.1.0",
        "min_score": 1.0,
        "columns": [
            {
                "key": "postal_code",
                "label": "Postal Code",
                "path": "columns/postal_code.py",
                "ordinal": 1,
                "required": True,
                "enabled": True,
                "depends_on": [],
                "synonyms": ["postal", "zip"],
                "anything_else": {"goes": "to the script"},
            },
            {
                "key": "member_id",
                "label": "Member",
                "path": "columns/member_id.py",
                "ordinal": 2,
                "depends_on": ["postal_code"],
            },
        ],
        "table": {
            "transform": {"path": "table/transform.py"},
            "validators": {"path": "table/validators.py"},
        },
        "hints": {
            "header_row": None,
            "header_row_contains": [],
            "sheets": {"include": [], "exclude": []},
            "sample_rows": 100,
        },
        "pins": {},
        "capabilities": {"allow_network": False, "allow_llm": False, "resources": {}},
    }


def problems_after(change) -> list[str]:
    manifest = good()
    change(manifest)
    return validate_manifest(manifest, PATHS)


def test_spec_example_is_valid():
    assert validate_manifest(good(), PATHS) == []


def test_minimal_manifest_is_valid():
    assert validate_manifest({"columns": []}, []) == []


@pytest.mark.parametrize("manifest", [None, [], "x", 3])
def test_manifest_must_be_an_object(manifest):
    problems = validate_manifest(manifest, PATHS)
    assert len(problems) == 1
    assert problems[0].startswith("manifest: must be a JSON object")


@pytest.mark.parametrize(
    "key", ["Postal", "1zip", "_zip", "zip-code", "", "a" * 64, "zíp", 7, None]
)
def test_key_must_match_the_pattern(key):
    problems = problems_after(lambda m: m["columns"][0].update(key=key))
    assert "columns[0].key: must match ^[a-z][a-z0-9_]{0,62}$" in problems


def test_key_of_63_chars_is_fine():
    key = "a" * 63
    problems = problems_after(lambda m: m["columns"][0].update(key=key))
    assert [p for p in problems if "key" in p and "columns[0]" in p] == []


def test_key_must_be_unique():
    problems = problems_after(lambda m: m["columns"][1].update(key="postal_code"))
    assert any(p.startswith("columns[1].key: duplicate") for p in problems)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("columns/missing.py", "columns[0].path: no such file 'columns/missing.py'"),
        ("columns/notes.txt", "columns[0].path: must be a .py file under columns/"),
        ("lib/helpers.py", "columns[0].path: must be a .py file under columns/"),
        (None, "columns[0].path: required, a path in the package"),
        (5, "columns[0].path: required, a path in the package"),
    ],
)
def test_path_must_exist_and_be_python_under_columns(path, expected):
    assert expected in problems_after(lambda m: m["columns"][0].update(path=path))


@pytest.mark.parametrize("ordinal", [0, -1, 1.5, "1", True, None])
def test_ordinal_must_be_a_positive_integer(ordinal):
    problems = problems_after(lambda m: m["columns"][0].update(ordinal=ordinal))
    assert "columns[0].ordinal: must be a positive integer" in problems


def test_ordinal_must_be_unique():
    problems = problems_after(lambda m: m["columns"][1].update(ordinal=1))
    assert "columns[1].ordinal: duplicate of columns[0].ordinal 1" in problems


def test_depends_on_names_existing_keys():
    problems = problems_after(lambda m: m["columns"][1].update(depends_on=["nope"]))
    assert "columns[1].depends_on: unknown column key 'nope'" in problems
    problems = problems_after(lambda m: m["columns"][1].update(depends_on="x"))
    assert "columns[1].depends_on: must be a list of column keys" in problems


def test_depends_on_self_and_cycles_are_rejected():
    problems = problems_after(
        lambda m: m["columns"][0].update(depends_on=["postal_code"])
    )
    assert "columns[0].depends_on: a column cannot depend on itself" in problems
    problems = problems_after(
        lambda m: m["columns"][0].update(depends_on=["member_id"])
    )
    assert (
        "columns: depends_on cycle: member_id -> postal_code -> member_id" in problems
    )


def test_min_score_must_be_a_number():
    for bad in ("1", None, True, [1], float("nan")):
        problems = problems_after(lambda m, bad=bad: m.update(min_score=bad))
        assert problems == ["min_score: must be a number"], bad
    assert problems_after(lambda m: m.update(min_score=0)) == []


@pytest.mark.parametrize("row", [0, -2, "3", 2.0, True])
def test_header_row_is_null_or_positive_int(row):
    problems = problems_after(lambda m: m["hints"].update(header_row=row))
    assert problems == ["hints.header_row: must be null or a positive integer"]


def test_header_row_positive_int_is_fine():
    assert problems_after(lambda m: m["hints"].update(header_row=4)) == []


def test_unknown_top_level_keys_and_files_hash_are_rejected():
    problems = problems_after(lambda m: m.update(colums=[], files_hash="ab" * 20))
    assert "colums: unknown top-level key" in problems
    assert any(p.startswith("files_hash: not a manifest field") for p in problems)


def test_columns_required_and_a_list_of_objects():
    assert problems_after(lambda m: m.pop("columns")) == ["columns: required"]
    assert problems_after(lambda m: m.update(columns={})) == ["columns: must be a list"]
    problems = problems_after(lambda m: m["columns"].append("x"))
    assert "columns[2]: must be an object" in problems


def test_other_column_types_are_checked():
    def change(m):
        m["columns"][0].update(label=3, required="yes", enabled=1, synonyms="zip")

    assert sorted(problems_after(change)) == [
        "columns[0].enabled: must be true or false",
        "columns[0].label: must be a string",
        "columns[0].required: must be true or false",
        "columns[0].synonyms: must be a list of strings",
    ]


def test_table_paths_must_exist():
    def change(m):
        m["table"]["transform"]["path"] = "table/nope.py"
        m["table"]["validators"] = "table/validators.py"
        m["table"]["extra"] = {}

    assert sorted(problems_after(change)) == [
        "table.extra: unknown key",
        "table.transform.path: no such file 'table/nope.py'",
        "table.validators: must be an object with a path",
    ]


def test_hint_types_are_checked():
    def change(m):
        m["hints"].update(
            header_row_contains="Name",
            sheets={"include": "Roster", "exlude": []},
            sample_rows=0,
            colour="red",
        )

    assert sorted(problems_after(change)) == [
        "hints.colour: unknown key",
        "hints.header_row_contains: must be a list of strings",
        "hints.sample_rows: must be a positive integer",
        "hints.sheets.exlude: unknown key",
        "hints.sheets.include: must be a list of strings",
    ]
    assert problems_after(lambda m: m.update(hints=[])) == ["hints: must be an object"]


def test_capabilities_pins_and_strings_are_checked():
    def change(m):
        m.update(name=1, sdk_version=None, pins={"requests": 2})
        m["capabilities"].update(allow_network="no", resources=[], gpu=True)

    assert sorted(problems_after(change)) == [
        "capabilities.allow_network: must be true or false",
        "capabilities.gpu: unknown key",
        "capabilities.resources: must be an object",
        "name: must be a string",
        "pins.requests: must be a version string",
        "sdk_version: must be a string",
    ]


def test_every_problem_is_reported_at_once():
    def change(m):
        m["columns"][0].update(key="Bad", ordinal=0, path="x.py")
        m.update(min_score="high", extra=1)

    assert sorted(problems_after(change)) == [
        "columns[0].key: must match ^[a-z][a-z0-9_]{0,62}$",
        "columns[0].ordinal: must be a positive integer",
        "columns[0].path: must be a .py file under columns/",
        "columns[0].path: no such file 'x.py'",
        "columns[1].depends_on: unknown column key 'postal_code'",
        "extra: unknown top-level key",
        "min_score: must be a number",
    ]


def test_validate_does_not_modify_the_manifest():
    manifest = good()
    before = copy.deepcopy(manifest)
    validate_manifest(manifest, PATHS)
    assert manifest == before


def col(key, ordinal, *deps):
    return {"key": key, "ordinal": ordinal, "depends_on": list(deps)}


def test_topo_order_puts_dependencies_first_then_ordinal():
    columns = [col("c", 1, "b"), col("a", 3), col("b", 2, "a"), col("d", 4)]
    assert [c["key"] for c in topo_order(columns)] == ["a", "b", "c", "d"]
    columns = [col("z", 2), col("y", 1), col("x", 3)]
    assert [c["key"] for c in topo_order(columns)] == ["y", "z", "x"]


def test_topo_order_ignores_unknown_dependencies_and_reports_cycles():
    assert [c["key"] for c in topo_order([col("a", 1, "gone")])] == ["a"]
    with pytest.raises(CycleError) as err:
        topo_order([col("a", 1, "b"), col("b", 2, "a"), col("c", 3)])
    assert err.value.cycle == ["a", "b", "a"]


def test_key_with_trailing_newline_is_refused():
    from runner.manifest import validate_manifest as _validate

    manifest = {
        "name": "x",
        "columns": [
            {"key": "email\n", "label": "E", "path": "columns/email.py", "ordinal": 1}
        ],
    }
    problems = _validate(manifest, {"columns/email.py", "manifest.json"})
    assert any("key" in p for p in problems), problems
