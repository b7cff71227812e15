"""The new-config scaffold and the file templates: valid manifest, allowed imports,
keyword-only hooks with ``**_``, and an example column that really works."""

from __future__ import annotations

import ast
import json

import pytest

from repos.store import Store
from runner.guardrails import check_files
from runner.manifest import validate_manifest
from runner.scaffold import TEMPLATES, file_template, scaffold_files
from tests.repos_helpers import AUTHOR

HOOK_PREFIXES = ("detect", "prepare", "transform_", "validate", "run_")


def _hooks(source: bytes) -> list[ast.FunctionDef]:
    tree = ast.parse(source)
    return [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name.startswith(HOOK_PREFIXES)
    ]


def _assert_keyword_only(source: bytes) -> None:
    for fn in _hooks(source):
        assert not fn.args.args and not fn.args.posonlyargs, fn.name
        assert fn.args.vararg is None, fn.name
        assert fn.args.kwarg is not None and fn.args.kwarg.arg == "_", fn.name


def test_scaffold_has_the_spec_files_and_a_valid_manifest():
    files = scaffold_files("Optima Roster")
    assert set(files) == {
        "manifest.json",
        "startup.py",
        "run.py",
        "columns/email.py",
        "table/transform.py",
        "table/validators.py",
    }
    manifest = json.loads(files["manifest.json"])
    assert manifest["name"] == "Optima Roster"
    assert validate_manifest(manifest, list(files)) == []
    (column,) = manifest["columns"]
    assert column["key"] == "email" and column["synonyms"]


def test_scaffold_scripts_pass_the_guardrails_and_hook_rules():
    files = scaffold_files("x")
    assert check_files(files) == []
    for path, source in files.items():
        if path.endswith(".py"):
            _assert_keyword_only(source)
    names = {fn.name for fn in _hooks(files["columns/email.py"])}
    assert {"transform_column", "validate"} <= names
    assert any(n.startswith("detect") for n in names)
    assert {fn.name for fn in _hooks(files["run.py"])} == {"run_start", "run_end"}


def test_example_column_detects_transforms_and_validates():
    files = scaffold_files("x")
    field = json.loads(files["manifest.json"])["columns"][0]
    ns: dict = {}
    exec(compile(files["columns/email.py"], "columns/email.py", "exec"), ns)
    score = ns["detect_header"](
        header="E-mail Address", field=field, values=[], future_arg=1
    )
    assert score > 0
    assert ns["detect_header"](header="Phone", field=field) == 0
    assert (
        ns["detect_values"](values=["a@b.co", "c@d.org"])
        > ns["detect_values"](values=["12", "a@b.co"])
        > ns["detect_values"](values=["x", "y"])
        == 0
    )
    out = ns["transform_column"](values=["  Ann@Example.COM ", None, ""], field=field)
    assert out == ["ann@example.com", None, None]
    issues = ns["validate"](values=["ann@example.com", "nope"], field=field)
    assert [i["row_index"] for i in issues] == [1]


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates(name):
    body = file_template(name, key="postal_code", label="Postal Code")
    assert check_files({"columns/t.py": body}) == []
    _assert_keyword_only(body)
    if name == "blank":
        assert body == b""
    if name == "column":
        assert b"Postal Code" in body
        assert any(fn.name.startswith("detect") for fn in _hooks(body))
    if name == "table_transform":
        assert [fn.name for fn in _hooks(body)] == ["transform_table"]
    if name == "table_validators":
        assert [fn.name for fn in _hooks(body)] == ["validate_table"]


def test_column_template_label_cannot_break_the_script():
    body = file_template("column", key="k", label='Weird """ {x} \\ \n label')
    assert check_files({"columns/k.py": body}) == []
    assert file_template("column").startswith(b'"""Column: New column.')
    with pytest.raises(ValueError):
        file_template("column", key="Bad-Key")
    with pytest.raises(ValueError):
        file_template("nope")


def test_store_creates_a_config_from_the_scaffold(tmp_path):
    files = scaffold_files("x")
    repo = Store(tmp_path).create("ws", "cfg", files, AUTHOR)
    assert repo.read_all("draft") == files
    assert repo.check_tree("draft") == []
