"""Load a config package directory: parse and validate the manifest, import scripts.

Imports config code, so it runs only inside the sandbox worker (or tests). Every
package gets a fresh synthetic parent package (`_ade_cfg_<n>`) whose `__path__` is
the package directory, so scripts can use relative imports (`from . import helpers`)
and two loaded packages never share modules.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import itertools
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.context import ConfigError, Hook, ScriptError
from runner.manifest import (
    DEFAULT_MIN_SCORE,
    DEFAULT_SAMPLE_ROWS,
    ManifestSyntaxError,
    parse_manifest,
    topo_order,
    validate_manifest,
)

_COUNTER = itertools.count(1)
TABLE_DEFAULTS = {
    "transform": "table/transform.py",
    "validators": "table/validators.py",
}


@dataclass
class Field:
    """One enabled target field: its manifest entry and its script's hooks."""

    key: str
    label: str
    ordinal: int
    required: bool
    meta: dict[str, Any]  # the manifest entry, passed to hooks as `field`
    path: str
    detectors: list[Hook]
    prepare: Hook | None = None
    transform_column: Hook | None = None
    transform_cell: Hook | None = None
    validate: Hook | None = None


@dataclass
class Package:
    """A loaded config package."""

    root: Path
    manifest: dict[str, Any]
    fields: list[Field]  # enabled fields in ordinal order (the output columns)
    plan: list[Field]  # the same fields in depends_on order (hooks run in this order)
    min_score: float
    sample_rows: int
    known_keys: frozenset[str]  # every manifest key, disabled ones included
    run_start: Hook | None = None
    run_end: Hook | None = None
    transform_table: Hook | None = None
    validate_table: Hook | None = None
    module_prefix: str = ""

    def unload(self) -> None:
        """Drop this package's modules from `sys.modules`."""
        prefix = self.module_prefix
        for name in [
            n for n in sys.modules if n == prefix or n.startswith(prefix + ".")
        ]:
            del sys.modules[name]


def list_files(root: Path) -> list[str]:
    """Relative POSIX paths of every file under `root` (no `.git`, no caches)."""
    skip = {".git", "__pycache__"}
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and not p.is_symlink()  # a package is its own files, never a link out
        and not skip.intersection(p.relative_to(root).parts)
    )


def read_manifest(root: Path) -> dict[str, Any]:
    """Parse and validate `manifest.json`; raise `ConfigError` listing all problems."""
    path = root / "manifest.json"
    try:
        manifest = parse_manifest(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError("manifest.json: not found in the config package") from None
    except ManifestSyntaxError as exc:
        raise ConfigError(f"manifest.json: {exc}") from None
    problems = validate_manifest(manifest, list_files(root))
    if problems:
        raise ConfigError("invalid manifest: " + "; ".join(problems))
    return manifest


@contextlib.contextmanager
def no_bytecode() -> Iterator[None]:
    """Keep imports from writing `__pycache__` into the package (a git checkout)."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


def load_package(root: Path) -> Package:
    """Load the config package at `root` (a directory holding `manifest.json`)."""
    with no_bytecode():
        return _load(Path(root).resolve())


def _load(root: Path) -> Package:
    if not root.is_dir():
        raise ConfigError(f"config package {root} is not a directory")
    manifest = read_manifest(root)
    prefix = f"_ade_cfg_{next(_COUNTER)}"
    _new_package(prefix, root)
    files = set(list_files(root))

    fields = []
    for entry in manifest["columns"]:
        if not entry.get("enabled", True):
            continue
        module = _import(prefix, root, entry["path"])
        fields.append(_field(entry, module, root))
    fields.sort(key=lambda f: f.ordinal)
    by_key = {f.key: f for f in fields}
    plan = [by_key[c["key"]] for c in topo_order([f.meta for f in fields])]

    hints = manifest.get("hints") or {}
    pkg = Package(
        root=root,
        manifest=manifest,
        fields=fields,
        plan=plan,
        min_score=float(manifest.get("min_score", DEFAULT_MIN_SCORE)),
        sample_rows=hints.get("sample_rows") or DEFAULT_SAMPLE_ROWS,
        known_keys=frozenset(c["key"] for c in manifest["columns"]),
        module_prefix=prefix,
    )
    if "run.py" in files:
        module = _import(prefix, root, "run.py")
        pkg.run_start = _hook(module, "run_start", "run.py", root)
        pkg.run_end = _hook(module, "run_end", "run.py", root)
    table = manifest.get("table") or {}
    for kind, fn_name in (
        ("transform", "transform_table"),
        ("validators", "validate_table"),
    ):
        path = (table.get(kind) or {}).get("path") or TABLE_DEFAULTS[kind]
        if path in files:
            module = _import(prefix, root, path)
            setattr(pkg, fn_name, _hook(module, fn_name, path, root))
    return pkg


def _field(entry: dict[str, Any], module: types.ModuleType, root: Path) -> Field:
    path = entry["path"]
    detectors = [
        Hook(obj, path, root)
        for name, obj in sorted(vars(module).items())
        if name.startswith("detect") and inspect.isfunction(obj)
    ]
    return Field(
        key=entry["key"],
        label=entry.get("label") or entry["key"],
        ordinal=entry["ordinal"],
        required=bool(entry.get("required", False)),
        meta=copy.deepcopy(entry),
        path=path,
        detectors=detectors,
        prepare=_hook(module, "prepare", path, root),
        transform_column=_hook(module, "transform_column", path, root),
        transform_cell=_hook(module, "transform_cell", path, root),
        validate=_hook(module, "validate", path, root),
    )


def _hook(module: types.ModuleType, name: str, path: str, root: Path) -> Hook | None:
    fn = getattr(module, name, None)
    return Hook(fn, path, root) if callable(fn) else None


def _new_package(name: str, directory: Path) -> None:
    module = types.ModuleType(name)
    module.__path__ = [str(directory)]
    module.__package__ = name
    sys.modules[name] = module


def _import(prefix: str, root: Path, rel: str) -> types.ModuleType:
    """Execute `rel` as module `<prefix>.<dotted rel>`; errors become ScriptError."""
    parts = rel[: -len(".py")].split("/")
    parent = ".".join([prefix, *parts[:-1]])
    for depth in range(1, len(parts)):  # columns/, table/, nested folders
        sub = ".".join([prefix, *parts[:depth]])
        if sub not in sys.modules:
            _new_package(sub, root.joinpath(*parts[:depth]))
    name = f"{parent}.{parts[-1]}"
    if name in sys.modules:
        return sys.modules[name]
    path = root / rel
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{rel}: cannot read ({exc})") from None
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__package__ = parent
    sys.modules[name] = module
    try:
        code = compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ScriptError(f"{rel}:{exc.lineno}: SyntaxError: {exc.msg}") from None
    importer = Hook(lambda: exec(code, module.__dict__), rel, root)
    importer.name = "<module>"
    importer()
    return module
