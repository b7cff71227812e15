from .common import header_score


def detect_header(*, header, **_):
    return header_score(header, ("city", "town"))
