"""The files of a new config (SPEC §1/§5) and the per-file templates the editor
offers. Scripts import only from the guardrail allow-list (SPEC §6) and every hook
is keyword-only with ``**_`` (SPEC §5 script API).

The config package format belongs to the runner, so its templates live here; the
store (``repos``) only writes the bytes it is given."""

from __future__ import annotations

import json
import posixpath

from runner.manifest import is_column_key

TEMPLATES = ("column", "table_transform", "table_validators", "blank")

_STARTUP = '''"""Reserved: declares dependencies. The engine does not run it in v1."""
'''

_RUN = '''"""Hooks around a whole run."""


def run_start(*, ctx, manifest, **_):
    """Called once before detection starts."""
    ctx.log(f"run_start: {manifest.get('name', 'config')}")


def run_end(*, ctx, **_):
    """Called once after validation, before the workbook is written."""
    ctx.log("run_end")
'''

_EMAIL = '''"""Column: email address."""

import re

EMAIL_RE = re.compile(r"^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$")
HEADER_WORDS = ("email", "e-mail", "mail")


def detect_header(*, header, field, **_):
    """Score the header text against the label and synonyms."""
    if not header:
        return 0
    text = header.strip().lower()
    names = [field.get("label", ""), *field.get("synonyms", []), *HEADER_WORDS]
    return 1.0 if any(n and n.lower() in text for n in names) else 0


def detect_values(*, values, **_):
    """Score the share of sample values that look like email addresses."""
    sample = [str(v).strip() for v in values if v not in (None, "")]
    if not sample:
        return 0
    hits = sum(1 for v in sample if EMAIL_RE.match(v))
    return round(2.0 * hits / len(sample), 2)


def transform_column(*, values, **_):
    """Trim and lower-case; keep empties as None."""
    out = []
    for value in values:
        text = "" if value is None else str(value).strip().lower()
        out.append(text or None)
    return out


def validate(*, values, field, **_):
    """One issue per value that is not an email address."""
    issues = []
    for row_index, value in enumerate(values):
        if value is None:
            if field.get("required"):
                issues.append({"row_index": row_index, "code": "required",
                               "message": "email is missing"})
        elif not EMAIL_RE.match(str(value)):
            issues.append({"row_index": row_index, "code": "invalid_email",
                           "message": f"not an email address: {value}"})
    return issues
'''

_COLUMN = '''"""Column: {label}."""


def detect_header(*, header, field, **_):
    """Score the header text against the label and synonyms."""
    if not header:
        return 0
    text = header.strip().lower()
    names = [field.get("label", ""), *field.get("synonyms", [])]
    return 1.0 if any(n and n.lower() in text for n in names) else 0


def detect_values(*, values, **_):
    """Score what the sample values look like (0 = no opinion)."""
    return 0


def transform_column(*, values, **_):
    """Trim surrounding whitespace of text values."""
    return [v.strip() if isinstance(v, str) else v for v in values]


def validate(*, values, field, **_):
    """Report missing values of a required field."""
    if not field.get("required"):
        return []
    return [
        {{"row_index": i, "code": "required", "message": "{label} is missing"}}
        for i, v in enumerate(values)
        if v in (None, "")
    ]
'''

_TABLE_TRANSFORM = '''"""Table-level transform, after the column transforms."""


def transform_table(*, table, manifest, ctx, **_):
    """Return the table ({field_key: list}) with the same shape."""
    return table
'''

_TABLE_VALIDATORS = '''"""Table-level validation, after the column validators."""


def validate_table(*, table, manifest, ctx, **_):
    """Return a list of issues {row_index, message, code?, severity?}."""
    return []
'''


def _manifest(name: str) -> dict:
    return {
        "name": name,
        "sdk_version": "0.1.0",
        "min_score": 1.0,
        "columns": [
            {
                "key": "email",
                "label": "Email",
                "path": "columns/email.py",
                "ordinal": 1,
                "required": False,
                "enabled": True,
                "depends_on": [],
                "synonyms": ["email address", "e-mail", "mail"],
            }
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


def manifest_bytes(manifest: dict) -> bytes:
    """How the store writes a manifest: 2-space JSON, trailing newline."""
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()


def scaffold_files(name: str) -> dict[str, bytes]:
    """Every file of a new config called ``name`` (a working example)."""
    return {
        "manifest.json": manifest_bytes(_manifest(name)),
        "startup.py": _STARTUP.encode(),
        "run.py": _RUN.encode(),
        "columns/email.py": _EMAIL.encode(),
        "table/transform.py": _TABLE_TRANSFORM.encode(),
        "table/validators.py": _TABLE_VALIDATORS.encode(),
    }


def file_template(name: str, key: str | None = None, label: str | None = None) -> bytes:
    """The content of a new file from template ``name`` (one of TEMPLATES).
    ``column`` uses ``label`` (default: ``key`` in words) in docstrings/messages."""
    if name == "column":
        key = key or "new_column"
        if not is_column_key(key):
            raise ValueError(f"invalid column key: {key!r}")
        text = label or key.replace("_", " ").capitalize()
        text = "".join(ch for ch in text if ch.isprintable() and ch != "\\")
        text = text.replace('"', "'")
        text = text.replace("{", "(").replace("}", ")")
        return _COLUMN.format(label=text).encode()
    if name == "table_transform":
        return _TABLE_TRANSFORM.encode()
    if name == "table_validators":
        return _TABLE_VALIDATORS.encode()
    if name == "blank":
        return b""
    raise ValueError(f"unknown template {name!r}; expected one of {TEMPLATES}")


def default_template(path: str) -> tuple[str, str | None]:
    """The template a new file at ``path`` gets when none is named, and the column
    key its name gives: ``columns/<key>.py`` is a column script, anything else blank."""
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    key = stem if is_column_key(stem) else None
    if folder == "columns" and ext == ".py" and key:
        return "column", key
    return "blank", key
