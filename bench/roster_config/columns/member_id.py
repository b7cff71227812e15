import re

from .common import header_score, share

ID = re.compile(r"^M?\d{4,8}$")


def detect_header(*, header, **_):
    return header_score(
        header,
        ("member id", "member #", "member no", "membership n", "mbr", "id"),
        ("branch",),
    )


def detect_values(*, values, **_):
    return share(values, lambda v: not isinstance(v, bool) and bool(ID.match(str(v))))
