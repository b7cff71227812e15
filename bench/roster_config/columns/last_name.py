import re

from .common import header_score, share

WORD = re.compile(r"^[A-Z][a-zA-Z'\-]+$")


def detect_header(*, header, **_):
    return header_score(header, ("last", "surname", "family"), ("updated",))


def detect_values(*, values, **_):
    part = share(values, lambda v: isinstance(v, str) and bool(WORD.match(v)))
    return None if part is None else 0.5 * part
