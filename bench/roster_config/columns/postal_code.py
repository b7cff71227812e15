import re

from .common import header_score, share

ZIP = re.compile(r"^\d{5}(-\d{4})?$")


def detect_header(*, header, **_):
    return header_score(header, ("zip", "postal", "postcode"))


def detect_values(*, values, **_):
    return share(values, lambda v: not isinstance(v, bool) and bool(ZIP.match(str(v))))
