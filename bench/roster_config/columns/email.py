import re

from .common import header_score, share

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


def detect_header(*, header, **_):
    return header_score(header, ("mail", "email", "e-mail"), ("secondary", "alt"))


def detect_values(*, values, **_):
    return share(values, lambda v: isinstance(v, str) and bool(EMAIL.match(v.strip())))
