"""schemathesis hooks of the conformance run (``hooks`` in tests/schemathesis.toml).

``format: config-path`` is ``repos.paths.validate_path``: the document's pattern
says all of it but the length in bytes, which no JSON Schema keyword can. Values of
the format are drawn from the pattern and kept when the service's own check
accepts them, so every "valid" path schemathesis sends is one the server takes.
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st
from schemathesis.transport.serialization import Binary

from repos.errors import UnsafePath
from repos.paths import MAX_PATH_BYTES, path_pattern, validate_path
from tests.jobs_helpers import roster_xlsx


def _valid(path: str) -> bool:
    try:
        validate_path(path)
    except UnsafePath:
        return False
    return True


schemathesis.openapi.format(
    "config-path",
    st.from_regex(path_pattern(), fullmatch=True)
    .filter(lambda p: len(p.encode("utf-8", "surrogatepass")) <= MAX_PATH_BYTES)
    .filter(_valid),
)


UPLOAD = "POST /api/v1/workspaces/{ws}/documents"
WORKBOOK = Binary(roster_xlsx(rows=3))


@schemathesis.hook
def flatmap_body(context, body):
    """Half the valid upload bodies carry a real workbook: the document says the
    file is an Excel workbook, which bytes drawn at random never are (those get
    the 415 the document gives them, so the other half still tests that)."""
    valid_shape = (
        isinstance(body, dict)
        and set(body) == {"file"}
        and isinstance(body["file"], Binary)
    )
    if context.operation.label != UPLOAD or not valid_shape:
        return st.just(body)
    return st.sampled_from([body, {"file": WORKBOOK}])
