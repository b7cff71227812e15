"""Helpers shared by the column scripts: header words and value shares."""

import datetime
import re

DATE_TEXT = re.compile(
    r"^(\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}|\d{2}\.\d{2}\.\d{4}|\d{1,2}-[A-Za-z]{3}-\d{4}"
    r"|[A-Za-z]{3} \d{1,2}, \d{4})$"
)


def has_word(text, words):
    """Whether one of ``words`` starts a word of ``text`` ("id" is not in "paid")."""
    return any(re.search(r"(?<![a-z])" + re.escape(w), text) for w in words)


def header_score(header, words, negative=()):
    """+1 when the header has one of ``words``, -1 when one of ``negative``."""
    text = " ".join((header or "").lower().split())
    if has_word(text, negative):
        return -1.0
    if has_word(text, words):
        return 1.0
    return None


def share(values, test, floor=0.6):
    """The share of values passing ``test`` when it is at least ``floor``."""
    if not values:
        return None
    hits = sum(1 for v in values if test(v))
    part = hits / len(values)
    return round(part, 2) if part >= floor else None


def year_of(value):
    """The year of a date cell or of a date written as text, else None."""
    if isinstance(value, datetime.date):
        return value.year
    if isinstance(value, str) and DATE_TEXT.match(value.strip()):
        found = re.findall(r"\d{4}", value)
        return int(found[-1]) if found else None
    return None
