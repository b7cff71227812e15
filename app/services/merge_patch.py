"""JSON merge patch (RFC 7386): the body of ``PATCH .../draft/manifest``."""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Return ``target`` with ``patch`` applied; neither argument is modified.

    An object patch merges key by key (``null`` deletes a key, nested objects
    merge recursively); any other patch value replaces the target whole.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
