"""AST guardrails: what is flagged, with which code and position, and what is not."""

from __future__ import annotations

import dataclasses

import pytest

from runner.guardrails import Finding, check_files, check_source


def codes(source: str, **kwargs) -> list[tuple[int, int, str]]:
    return [(f.line, f.col, f.code) for f in check_source("c.py", source, **kwargs)]


def test_clean_script_has_no_findings():
    source = (
        "from __future__ import annotations\n"
        "import re, math\nfrom datetime import date\nfrom collections import Counter\n"
        "from . import helpers\nfrom .util import norm\n\n"
        "def detect_email(*, header, values, **_):\n"
        "    '''Doc.'''\n"
        "    if __name__ == 'x':\n        pass\n"
        "    return sum(bool(re.match(r'.+@.+', str(v))) for v in values) / 10\n"
        "print(detect_email.__name__, detect_email.__doc__)\n"
    )
    assert check_source("columns/email.py", source) == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import os", [(1, 0, "import")]),
        ("import os.path", [(1, 0, "import")]),
        ("import re, subprocess", [(1, 0, "import")]),
        ("from os import path", [(1, 0, "import")]),
        ("from importlib import import_module", [(1, 0, "import")]),
        ("import collections.abc", []),
        ("x = 1\neval('1')", [(2, 0, "call")]),
        ("exec('x')", [(1, 0, "call")]),
        ("compile('1', 'f', 'eval')", [(1, 0, "call")]),
        ("__import__('os')", [(1, 0, "call")]),
        ("open('/etc/passwd')", [(1, 0, "call")]),
        ("input()", [(1, 0, "call")]),
        ("breakpoint()", [(1, 0, "call")]),
        ("globals()", [(1, 0, "call")]),
        ("vars()", [(1, 0, "call")]),
        ("f = eval", [(1, 4, "call")]),
        ("x = ().__class__", [(1, 4, "dunder")]),
        ("x.__globals__['os']", [(1, 0, "dunder")]),
        ("getattr(x, '__class__')", [(1, 0, "dunder")]),
        ("b = __builtins__", [(1, 4, "dunder")]),
        ("from math import __loader__", [(1, 0, "import")]),
    ],
)
def test_flagged(source, expected):
    assert codes(source) == expected


def test_messages_name_the_offender():
    (finding,) = check_source("columns/a.py", "import socket\n")
    assert finding == Finding(
        "columns/a.py", 1, 0, "import", "import of 'socket' is not allowed"
    )
    (call,) = check_source("columns/a.py", "\n\n  open('x')\n".strip() + "\n")
    assert call.message == "call to 'open()' is not allowed"


def test_extra_modules_extend_the_allow_list():
    assert codes("import dateutil.parser", extra_modules=["dateutil"]) == []
    assert codes("from dateutil import tz", extra_modules=["dateutil"]) == []
    assert codes("import dateutils", extra_modules=["dateutil"]) == [(1, 0, "import")]
    assert codes("import a", extra_modules=["a.b"]) == [(1, 0, "import")]


def test_syntax_error_has_line_and_is_the_only_finding():
    (finding,) = check_source("run.py", "import os\ndef f(:\n    pass\n")
    assert finding.code == "syntax"
    assert finding.line == 2
    assert finding.message.startswith("syntax error: ")


def test_null_bytes_are_a_syntax_finding():
    (finding,) = check_source("x.py", "x = 1\0")
    assert finding.code == "syntax"


def test_findings_are_sorted_and_frozen():
    findings = check_source("x.py", "eval('1')\nimport os\nx.__dict__\n")
    assert [f.line for f in findings] == [1, 2, 3]
    with pytest.raises(dataclasses.FrozenInstanceError):
        findings[0].line = 9
    assert findings[1].to_dict() == {
        "path": "x.py",
        "line": 2,
        "col": 0,
        "code": "import",
        "message": "import of 'os' is not allowed",
    }


def test_check_files_only_checks_python_and_reports_bad_encoding():
    files = {
        "manifest.json": b"import os",
        "columns/b.py": b"import os\n",
        "columns/a.py": b"x = '\xff'\n",
        "run.py": b"def run_start(**_):\n    pass\n",
    }
    findings = check_files(files)
    assert [(f.path, f.code) for f in findings] == [
        ("columns/a.py", "syntax"),
        ("columns/b.py", "import"),
    ]
    assert "UTF-8" in findings[0].message
    assert check_files({"columns/b.py": b"import os\n"}, extra_modules=["os"]) == []


SPEC_MODULES = (
    "re math datetime decimal string unicodedata statistics itertools functools "
    "collections json typing dataclasses enum fractions"
).split()
SPEC_CALLS = "eval exec compile __import__ open input breakpoint globals vars".split()


def test_allow_list_and_banned_calls_are_exactly_the_specs():
    from runner.guardrails import ALLOWED_DUNDERS, ALLOWED_MODULES, FORBIDDEN_CALLS

    # SPEC §6, plus __future__ (compile-time only; see docs/decisions.md).
    assert ALLOWED_MODULES == {*SPEC_MODULES, "__future__"}
    assert FORBIDDEN_CALLS == set(SPEC_CALLS)
    assert ALLOWED_DUNDERS == {"__name__", "__doc__"}
    for module in SPEC_MODULES:
        assert codes(f"import {module}") == [], module
        assert codes(f"from {module} import x") == [], module
    banned = "os sys io pathlib subprocess socket ctypes importlib builtins pickle"
    for module in banned.split():
        assert codes(f"import {module}") == [(1, 0, "import")], module
    for name in SPEC_CALLS:
        assert codes(f"{name}('x')") == [(1, 0, "call")], name
    assert codes("obj.__name__, obj.__doc__") == []
    for dunder in ("__class__", "__dict__", "__globals__", "__subclasses__"):
        assert codes(f"obj.{dunder}") == [(1, 0, "dunder")], dunder


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "-" * 400_000 + "1\n",  # MemoryError in CPython 3.11's parser
        "a = " + "not " * 100_000 + "x\n",
        "x = x" + ".y" * 200_000 + "\n",  # RecursionError building the tree
        "x = 1" + " + 1" * 600 + "\n",  # parses; too deep for a recursive visit
    ],
)
def test_code_nested_too_deeply_to_check_is_a_syntax_finding(source):
    # These raised out of check_source: a save answered 500, and once saved the
    # file made every plan and publish of the config a 500 too.
    [finding] = check_source("columns/deep.py", source)
    assert finding.code == "syntax"
    assert "nested too deeply" in finding.message
