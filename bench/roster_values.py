"""Values and header names of the messy-roster generator (``bench/rosters.py``).

Each field has header spellings a club secretary might type and a value maker that
honours the table's *style* (everything as text or typed cells; the date, amount,
ID and phone formats). Distractor columns look like fields but are not.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

FIRST = """Ada Alan Grace Linus Ann Bob Carla Dmitri Eve Farah Gus Hana Ivan Jo Kemal
Lena Mateo Nadia Omar Priya Quinn Rosa Sven Tariq Uma Vera Wen Ximena Yusuf
Zoe""".split()
LAST = """Lovelace Turing Hopper Smith Jones Garcia Nguyen Okafor Rossi Silva Kim Müller
Novak Haddad Costa Ivanova Dubois Larsen Moreau Tanaka Reyes O'Brien Van-Dyke""".split()
CITIES = """Springfield Riverside Oakland Fairview Kingston Salem Georgetown Franklin
Clinton Madison Arlington Ashland Dover Milton Newport Oxford""".split()
STREETS = "Main Oak Pine Maple Cedar Elm Lake Hill Park".split()
NOTES = [
    "call back", "VIP", "moved; check address", "paid by cheque", "new member",
    "board member", "prefers e-mail", "lapsed 2019, rejoined",
]  # fmt: skip


@dataclass(frozen=True)
class Style:
    """How one table writes its values."""

    text: bool  # every value is a text cell
    date: str  # iso | mdy | dmy_mon | mon_d_y | dmy_dot
    amount: str  # plain | thousands | currency | comma
    ids: str  # letter | int | zero
    phone: str  # us | dots | intl


def make_style(rnd: random.Random) -> Style:
    return Style(
        text=rnd.random() < 0.45,
        date=rnd.choice(["iso", "mdy", "dmy_mon", "mon_d_y", "dmy_dot"]),
        amount=rnd.choice(["plain", "thousands", "currency", "comma"]),
        ids=rnd.choice(["letter", "int", "zero"]),
        phone=rnd.choice(["us", "dots", "intl"]),
    )


def fmt_date(d: dt.date, style: Style) -> object:
    if not style.text:
        return d
    return {
        "iso": d.isoformat(),
        "mdy": f"{d.month:02d}/{d.day:02d}/{d.year}",
        "dmy_mon": d.strftime("%d-%b-%Y"),
        "mon_d_y": d.strftime("%b ") + f"{d.day}, {d.year}",
        "dmy_dot": f"{d.day:02d}.{d.month:02d}.{d.year}",
    }[style.date]


def fmt_amount(x: float, style: Style) -> object:
    if not style.text:
        return x
    if style.amount == "plain":
        return f"{x:.2f}"
    if style.amount == "thousands":
        return f"{x:,.2f}"
    if style.amount == "currency":
        return f"${x:,.2f}"
    whole, cents = f"{x:,.2f}".split(".")
    return whole.replace(",", ".") + "," + cents


def member_id(rnd: random.Random, i: int, style: Style) -> object:
    n = 1000 + i * 7 + rnd.randint(0, 6)
    if style.ids == "letter":
        return f"M{n:06d}"
    if style.ids == "zero":
        return f"{n:06d}"
    return str(n) if style.text else n


def phone(rnd: random.Random, style: Style) -> str:
    a, b, c = rnd.randint(201, 989), rnd.randint(200, 999), rnd.randint(0, 9999)
    if style.phone == "us":
        return f"({a}) {b}-{c:04d}"
    if style.phone == "dots":
        return f"{a}.{b}.{c:04d}"
    return f"+1 {a} {b} {c:04d}"


def postal(rnd: random.Random, style: Style) -> object:
    z = rnd.randint(1000, 99999)
    if rnd.random() < 0.2:
        return f"{z:05d}-{rnd.randint(0, 9999):04d}"
    if not style.text and z >= 10000 and rnd.random() < 0.5:
        return z  # typed as a number by whoever keyed it in
    return f"{z:05d}"


def when(rnd: random.Random, lo: int, hi: int) -> dt.date:
    start = dt.date(lo, 1, 1)
    return start + dt.timedelta(days=rnd.randint(0, (hi - lo) * 365))


def _email(rnd, i, person, style):
    first, last = person
    return f"{first}.{last}{i}@example.org".lower().replace("'", "")


MAKERS = {
    "member_id": lambda rnd, i, p, st: member_id(rnd, i, st),
    "first_name": lambda rnd, i, p, st: p[0],
    "last_name": lambda rnd, i, p, st: p[1],
    "full_name": lambda rnd, i, p, st: f"{p[0]} {p[1]}",
    "email": _email,
    "alt_email": _email,
    "phone": lambda rnd, i, p, st: phone(rnd, st),
    "emergency_phone": lambda rnd, i, p, st: phone(rnd, st),
    "birth_date": lambda rnd, i, p, st: fmt_date(when(rnd, 1940, 2008), st),
    "join_date": lambda rnd, i, p, st: fmt_date(when(rnd, 2000, 2024), st),
    "updated": lambda rnd, i, p, st: fmt_date(when(rnd, 2000, 2024), st),
    "postal_code": lambda rnd, i, p, st: postal(rnd, st),
    "city": lambda rnd, i, p, st: rnd.choice(CITIES),
    "street": lambda rnd, i, p, st: f"{rnd.randint(1, 999)} {rnd.choice(STREETS)} St",
    "amount": lambda rnd, i, p, st: fmt_amount(round(rnd.uniform(5, 2500), 2), st),
    "notes": lambda rnd, i, p, st: rnd.choice(NOTES),
    "row": lambda rnd, i, p, st: str(i + 1) if st.text else i + 1,
    "branch": lambda rnd, i, p, st: f"BR-{rnd.randint(1, 40):02d}",
    "status": lambda rnd, i, p, st: rnd.choice(
        ["Active", "Active", "Lapsed", "Honorary"]
    ),
}


def value(key: str, rnd: random.Random, i: int, person: tuple, style: Style):
    """One cell of field or distractor ``key`` for the ``i``-th member."""
    return MAKERS[key](rnd, i, person, style)


HEADERS = {
    "member_id": ["Member ID", "Member #", "Member No.", "ID", "Membership number",
                  "MEMBER ID", "Mbr ID"],
    "first_name": ["First name", "First Name", "Given name", "FIRST NAME",
                   "Forename"],
    "last_name": ["Last name", "Surname", "Family name", "LAST NAME", "Last Name"],
    "full_name": ["Name", "Member name", "Full name", "NAME"],
    "email": ["E-mail", "Email", "Email address", "E-Mail Address", "EMAIL"],
    "phone": ["Phone", "Telephone", "Phone number", "Tel.", "Mobile"],
    "birth_date": ["Date of birth", "Date of\nBirth", "DOB", "Birth date", "Born"],
    "join_date": ["Joined", "Join date", "Member since", "Date joined"],
    "postal_code": ["ZIP", "Zip code", "Postal code", "Postcode", "ZIP/Postal"],
    "city": ["City", "Town", "City/Town", "CITY"],
    "street": ["Street", "Address", "Street address"],
    "amount": ["Amount", "Dues paid", "Amount ($)", "Remittance", "Fee paid"],
    "notes": ["Notes", "Comments", "Remarks"],
    "emergency_phone": ["Emergency phone", "Emergency contact tel."],
    "alt_email": ["Secondary e-mail", "Alt. email"],
    "row": ["#", "No.", "Row"],
    "branch": ["Branch", "Branch code", "Chapter"],
    "status": ["Status", "Membership status"],
    "updated": ["Last updated", "Updated on", "Modified"],
}  # fmt: skip
FIELDS = ["member_id", "first_name", "last_name", "email", "phone", "birth_date",
          "join_date", "postal_code", "city", "amount"]  # fmt: skip
"""Keys of the bench config (``bench/roster_config``); ``full_name``, ``street``
and the rest are distractors the config has no field for."""
DISTRACTORS = ["full_name", "street", "notes", "emergency_phone", "alt_email", "row",
               "branch", "status", "updated"]  # fmt: skip
# Two-line spellings: (first line, second line) of a header split over two rows.
SPLITS = {
    "Date of birth": ("Date of", "birth"), "Member ID": ("Member", "ID"),
    "Email address": ("Email", "address"), "Join date": ("Join", "date"),
    "Postal code": ("Postal", "code"), "Dues paid": ("Dues", "paid"),
}  # fmt: skip
UNITS = {"amount": "(USD)", "birth_date": "(date)", "join_date": "(date)"}
