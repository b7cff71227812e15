"""AST guardrails for config scripts: friendly early warnings, not a security boundary.

The API reports these findings as warnings on save and as errors on publish (SPEC §6).
They catch the honest mistakes (``import os``, ``open(...)``); a determined script can
still get around them (``getattr`` with a computed name, generator frames), which is why
every config script runs in the sandbox (``runner.sandbox``) regardless.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass

ALLOWED_MODULES = frozenset(
    {
        "re",
        "math",
        "datetime",
        "decimal",
        "string",
        "unicodedata",
        "statistics",
        "itertools",
        "functools",
        "collections",
        "json",
        "typing",
        "dataclasses",
        "enum",
        "fractions",
        # Compile-time only; harmless and common in typed code.
        "__future__",
    }
)
FORBIDDEN_CALLS = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "__import__",
        "open",
        "input",
        "breakpoint",
        "globals",
        "vars",
    }
)
ALLOWED_DUNDERS = frozenset({"__name__", "__doc__"})
# CPython 3.11's AST constructor keeps a recursion counter that concurrent parses in
# other threads can corrupt ("SystemError: AST constructor recursion depth
# mismatch", gh-106905); saves, plans and publishes parse from request threads.
_PARSE_LOCK = threading.Lock()
# Built-ins that take an attribute name as a string: a constant dunder name there is
# the same access as ``obj.__x__`` spelled differently.
_ATTR_FUNCS = frozenset({"getattr", "setattr", "delattr", "hasattr"})


@dataclass(frozen=True)
class Finding:
    """One guardrail finding. ``code`` is one of ``import``, ``call``, ``dunder``,
    ``syntax``; ``line`` is 1-based and ``col`` 0-based (as in ``ast``)."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def to_dict(self) -> dict:
        """The JSON form used by the API."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "message": self.message,
        }


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _module_allowed(name: str, extra: Collection[str]) -> bool:
    if name.split(".")[0] in ALLOWED_MODULES:
        return True
    # An extra module allows itself and its submodules ("dateutil" allows
    # "dateutil.parser"); "a.b" in extra allows "a.b.c" but not "a".
    return any(name == e or name.startswith(e + ".") for e in extra)


class _Visitor(ast.NodeVisitor):
    def __init__(self, path: str, extra: Collection[str]) -> None:
        self.path = path
        self.extra = extra
        self.findings: list[Finding] = []

    def _add(self, node: ast.AST, code: str, message: str) -> None:
        self.findings.append(
            Finding(self.path, node.lineno, node.col_offset, code, message)
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _module_allowed(alias.name, self.extra):
                self._add(node, "import", f"import of '{alias.name}' is not allowed")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        # Relative imports stay inside the config package.
        if node.level == 0 and not _module_allowed(node.module or "", self.extra):
            self._add(node, "import", f"import from '{node.module}' is not allowed")
        for alias in node.names:
            if alias.name in FORBIDDEN_CALLS or (
                _is_dunder(alias.name) and alias.name not in ALLOWED_DUNDERS
            ):
                self._add(
                    node, "import", f"import of name '{alias.name}' is not allowed"
                )
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in FORBIDDEN_CALLS:
                self._add(node, "call", f"call to '{func.id}()' is not allowed")
                # The name itself is reported here, not again by visit_Name.
                for child in (*node.args, *node.keywords):
                    self.visit(child)
                return
            if func.id in _ATTR_FUNCS and len(node.args) >= 2:
                arg = node.args[1]
                if (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and _is_dunder(arg.value)
                    and arg.value not in ALLOWED_DUNDERS
                ):
                    self._add(
                        node,
                        "dunder",
                        f"access to attribute '{arg.value}' is not allowed",
                    )
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _is_dunder(node.attr) and node.attr not in ALLOWED_DUNDERS:
            self._add(
                node, "dunder", f"access to attribute '{node.attr}' is not allowed"
            )
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        # ``__builtins__``, ``__loader__``, ``__spec__`` and aliases such as
        # ``e = eval``: the usual ways around the call and import checks.
        if node.id in FORBIDDEN_CALLS:
            self._add(node, "call", f"use of '{node.id}' is not allowed")
        elif _is_dunder(node.id) and node.id not in ALLOWED_DUNDERS:
            self._add(node, "dunder", f"use of name '{node.id}' is not allowed")


def check_source(
    path: str, source: str, *, extra_modules: Collection[str] = ()
) -> list[Finding]:
    """Check one script's source; return every finding, sorted by position.

    ``extra_modules`` are importable in addition to the built-in allow-list (later: the
    manifest's ``pins``).  A syntax error is the only finding for a file that does not
    parse.
    """
    try:
        with _PARSE_LOCK:
            tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        return [Finding(path, line, col, "syntax", f"syntax error: {exc.msg}")]
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        return [Finding(path, 1, 0, "syntax", f"syntax error: {exc}")]
    except (RecursionError, MemoryError):
        # CPython 3.11's parser gives up on deep nesting with these, not with a
        # SyntaxError ("-" * 400_000 + "1" is a MemoryError of its stack).
        return [_too_deep(path)]
    visitor = _Visitor(path, frozenset(extra_modules))
    try:
        visitor.visit(tree)
    except RecursionError:  # the visit recurses too: ~500 chained "+" suffice
        return [_too_deep(path)]
    return sorted(visitor.findings, key=lambda f: (f.line, f.col, f.code))


def _too_deep(path: str) -> Finding:
    return Finding(path, 1, 0, "syntax", "syntax error: nested too deeply to check")


def check_files(
    files: Mapping[str, bytes], *, extra_modules: Collection[str] = ()
) -> list[Finding]:
    """Check every ``*.py`` in ``files`` (path → content); other files are ignored."""
    findings: list[Finding] = []
    for path in sorted(files):
        if not path.endswith(".py"):
            continue
        try:
            source = files[path].decode("utf-8")
        except UnicodeDecodeError as exc:
            findings.append(
                Finding(path, 1, 0, "syntax", f"syntax error: not UTF-8 ({exc.reason})")
            )
            continue
        findings.extend(check_source(path, source, extra_modules=extra_modules))
    return findings
