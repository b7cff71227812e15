import re

from .common import header_score, share

MONEY = re.compile(r"^\$?\d{1,3}([,.]?\d{3})*([.,]\d{1,2})?$")


def detect_header(*, header, **_):
    return header_score(header, ("amount", "dues paid", "remittance", "fee", "paid"))


def detect_values(*, values, **_):
    def test(v):
        if isinstance(v, bool):
            return False
        if isinstance(v, int | float):
            return True
        return isinstance(v, str) and bool(MONEY.match(v.strip()))

    part = share(values, test)
    return None if part is None else 0.5 * part
