"""The shape of one cell: what kind of value it holds, whether typed or written as text.

Spreadsheets from users keep much of their data as text: dates typed as
``08/18/1985``, amounts as ``$1,234.50`` or ``1.234,50``, IDs like ``M000123``,
phone numbers and e-mails. Header detection needs to see those as values, not as
labels, so every cell gets a one-letter class:

``E`` empty · ``N`` number · ``Y`` year-like number (1800–2100, a header's column
year as often as a value) · ``D`` date or time · ``B`` bool · ``M`` e-mail ·
``P`` phone number · ``I`` code or ID (letters and digits mixed without spaces,
digit strings with a leading zero, postal codes such as ``K1A 0B1``) · ``X`` a
placeholder for a missing value (``(NA)``, ``n/a``, ``-``, ``...``) · ``W`` words
(labels, names, sentences).

Classifying is only done on the rows header detection looks at (bounded windows),
never on every cell of a large sheet.
"""

from __future__ import annotations

import datetime as dt
import re

EMPTY, NUMBER, YEAR, DATE, BOOL = "E", "N", "Y", "D", "B"
EMAIL, PHONE, CODE, MISSING, WORDS = "M", "P", "I", "X", "W"
VALUES = frozenset("NYDBMPI")  # classes a label (header cell) rarely has

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"  # noqa: S105
_DATE = re.compile(
    r"^(?:"
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"  # ISO, optional time
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"  # m/d/Y, d.m.Y, d-m-y
    r"|\d{4}/\d{1,2}/\d{1,2}"
    rf"|\d{{1,2}}[ -]{_MONTH}[-, ]*(?:\d{{4}}|\d{{2}})"  # 18-Aug-1985, 18 August 1985
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}"  # Aug 18, 1985
    rf"|{_MONTH}[ -](?:\d{{4}}|\d{{2}})|\d{{1,2}}-{_MONTH}"  # Mar-09, 6-Jan (Excel)
    r"|\d{1,2}:\d{2}(?::\d{2})?(?: ?[ap]\.?m\.?)?"  # a time of day
    r")$",
    re.IGNORECASE,
)
_CURRENCY = "$€£¥₹"
# 1,234.56 / 1.234,56 / 1 234,56 / 1'234.56 / 12.5 / 12,5 / .5 ; optional sign,
# currency (before or after), percent, accounting parentheses.
_NUMBER = re.compile(
    r"^[(]?[-+\u2212]?[(]?"
    rf"(?:[{_CURRENCY}]|usd|eur|gbp)?\s?[-+\u2212]?"
    r"(?:\d{1,3}(?:([,. '\u00a0\u202f])\d{3})(?:\1\d{3})*(?:[.,]\d+)?"
    r"|\d+(?:[.,]\d+)?|[.,]\d+)"
    rf"\s?(?:%|[{_CURRENCY}]|usd|eur|gbp|k|m)?[)]?$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^(?:\+|00)?[\d\s().\-/]{7,22}(?:\s*(?:x|ext\.?)\s*\d{1,5})?$")
_CODE = re.compile(r"^(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9._/#-]{1,19}$")
_POSTAL = re.compile(
    r"^(?:[A-Z]\d[A-Z] ?\d[A-Z]\d"  # Canada
    r"|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"  # United Kingdom
    r"|\d{4} ?[A-Z]{2}"  # Netherlands
    r"|\d{5}-\d{4})$"  # US ZIP+4
)
_MISSING = re.compile(
    r"^(?:\(?[A-Za-z]\)?|\([A-Za-z]{1,2}\)|n/?a|n\.a\.|none|null|nan|-+|[\u2013\u2014]"
    r"|\.+|\u2026|\*+|x)$",
    re.IGNORECASE,
)
_YEAR_TEXT = re.compile(r"^(1[89]\d\d|20\d\d|2100)$")
# 2006-2007, 51 000-100 000, 12000 - 19999: a range of numbers is a bin label.
_RANGE = re.compile(r"^\d[\d,. \u00a0]*\s?[-\u2013]\s?\d[\d,. \u00a0]*$")
_US_PHONE7 = re.compile(r"^\d{3}-\d{4}$")
# 555.123.4567 would read as a number with a decimal part: a phone number first.
_US_PHONE = re.compile(r"^\(?\d{3}\)?[.\- ]\d{3}[.\- ]\d{4}$")
# (1,000), (000), ($1,000,000): "in thousands" and the like, a unit, not a value.
_UNIT = re.compile(r"^\((?:\$?1,000(?:,000)*|000|\$?1 000(?: 000)*)\)$")

_cache: dict[str, str] = {}


def cell_class(value: object) -> str:
    """The one-letter class of a cell value (see the module docstring)."""
    if value is None:
        return EMPTY
    cls = value.__class__
    if cls is str:
        return text_class(value)
    if cls is bool:
        return BOOL
    if cls is int:
        return YEAR if 1800 <= value <= 2100 else NUMBER
    if cls is float:
        return NUMBER
    if isinstance(value, dt.date | dt.time):
        return DATE
    return WORDS


def text_class(text: str) -> str:
    """The class of a text cell (cached: columns repeat their values)."""
    hit = _cache.get(text)
    if hit is None:
        if len(_cache) > 100_000:  # keep memory bounded on pathological sheets
            _cache.clear()
        hit = _cache[text] = _classify(text)
    return hit


def _classify(text: str) -> str:
    s = text.strip()
    if not s:
        return EMPTY
    if len(s) > 40:
        return WORDS  # sentences; no value shape is this long
    if _MISSING.match(s):
        return MISSING
    if "@" in s:
        return EMAIL if _EMAIL.match(s) else WORDS
    digits = sum(c.isdigit() for c in s)
    return _with_digits(s, digits) if digits else WORDS


def _with_digits(s: str, digits: int) -> str:
    if _YEAR_TEXT.match(s):
        return YEAR
    if _UNIT.match(s):
        return WORDS
    if _POSTAL.match(s):  # written in capitals; "2008 to" is not a Dutch code
        return CODE
    if _RANGE.match(s) and not _US_PHONE7.match(s) and s.count("-") == 1:
        return WORDS
    if _DATE.match(s):
        return DATE
    if _US_PHONE.match(s):
        return PHONE
    if _NUMBER.match(s):
        # A digit string with a leading zero is a code (ZIP 02134, ID 000123).
        if s[0] == "0" and len(s) > 1 and s.isdigit():
            return CODE
        return NUMBER
    if digits >= 7 and _PHONE.match(s) and not s.replace(" ", "").isdigit():
        return PHONE
    if _CODE.match(s):
        return CODE
    return WORDS


def is_value(cls: str) -> bool:
    """A class that data cells have and label cells rarely do."""
    return cls in VALUES


__all__ = [
    "BOOL",
    "CODE",
    "DATE",
    "EMAIL",
    "EMPTY",
    "MISSING",
    "NUMBER",
    "PHONE",
    "VALUES",
    "WORDS",
    "YEAR",
    "cell_class",
    "is_value",
    "text_class",
]
