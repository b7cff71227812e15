from .common import header_score, share, year_of


def detect_header(*, header, **_):
    return header_score(header, ("birth", "dob", "born"))


def detect_values(*, values, **_):
    part = share(values, lambda v: (year_of(v) or 3000) < 2012)
    return None if part is None else 0.5 * part
