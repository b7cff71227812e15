import re

from .common import header_score, share

PHONE = re.compile(r"^\+?[\d\s().\-]{10,20}$")


def detect_header(*, header, **_):
    return header_score(header, ("phone", "tel", "mobile"), ("emergency",))


def detect_values(*, values, **_):
    def test(v):
        text = str(v)
        return bool(PHONE.match(text)) and sum(c.isdigit() for c in text) >= 10

    return share(values, test)
