"""Checking a draft file's text without saving it (the editor's as-you-type
guardrails, SPEC §11 "Checking without saving").

The answer is what a save of that text would say, from the same code: a script's
guardrail findings (``files.script_problems``, warnings at save time) and, for
``manifest.json``, the problems that would refuse the save
(``manifest.manifest_check``). Nothing is written.
"""

from __future__ import annotations

from app.services.draft import Draft
from app.services.errors import TooLarge
from app.services.files import encode_text, script_problems
from app.services.manifest import manifest_check
from repos.paths import validate_path
from runner.checks import MANIFEST


def check_text(draft: Draft, path: str, code: str) -> list[dict]:
    """The findings a save of ``code`` at ``path`` would report (``[]`` for a file
    that is neither a script nor the manifest)."""
    validate_path(path)
    data = encode_text(code)
    limit = draft.repo.settings.max_file_bytes
    if len(data) > limit:
        raise TooLarge(f"{path!r} would be {len(data)} bytes; the limit is {limit}.")
    if path == MANIFEST:
        paths = [e.path for e in draft.repo.list_files("draft")]
        return [p.to_dict() for p in manifest_check(data, paths).errors]
    return script_problems(draft, path, data)
