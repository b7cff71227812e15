"""Cell shapes (runner.cellshape), text rows that hold data (runner.typed) and the
layout features a candidate header is scored on (runner.evidence)."""

from __future__ import annotations

import datetime as dt

import pytest

from runner.cellshape import cell_class
from runner.evidence import FEATURES, block_features, body_sample
from runner.rowkinds import DATA, TEXT, kinds
from runner.typed import TypedRows


@pytest.mark.parametrize(
    ("value", "cls"),
    [
        # dates in the common written forms, and typed
        ("1985-08-18", "D"), ("08/18/1985", "D"), ("18-Aug-1985", "D"),
        ("Aug 18, 1985", "D"), ("18.08.1985", "D"), ("18 August 1985", "D"),
        ("2024-05-01 10:30", "D"), ("Mar-09", "D"), (dt.date(2020, 1, 2), "D"),
        # numbers: thousands separators, currency, percent, decimal commas
        ("1,234.50", "N"), ("$1,234.50", "N"), ("1.234,50", "N"), ("38,9", "N"),
        ("1 051,8", "N"), ("35%", "N"), ("(1,234)", "N"), ("-12", "N"), (12.5, "N"),
        ("€ 12,50", "N"), (7, "N"),
        # e-mails, phones, postal codes and IDs
        ("ada@example.org", "M"), ("(555) 123-4567", "P"), ("+1 555 123 4567", "P"),
        ("555.123.4567", "P"), ("555-1234", "P"), ("02134", "I"), ("94105-1234", "I"),
        ("K1A 0B1", "I"), ("SW1A 1AA", "I"), ("M000123", "I"), ("BR-07", "I"),
        # years, placeholders and words (labels)
        ("1990", "Y"), (2005, "Y"), ("(NA)", "X"), ("n/a", "X"), ("-", "X"),
        ("...", "X"), ("Date of Birth", "W"), ("E-mail", "W"), ("Member #", "W"),
        ("ada(at)example", "W"), ("2006-2007", "W"), ("51 000-100 000", "W"),
        ("(1,000)", "W"), ("2008 to", "W"), ("1990 \\2", "W"), (True, "B"),
        ("A note that is much longer than any value a cell would hold", "W"),
        (None, "E"), ("  ", "E"),
    ],
)  # fmt: skip
def test_cell_classes(value, cls):
    assert cell_class(value) == cls


def typed(rows):
    width = max(map(len, rows))
    rows = [r + [None] * (width - len(r)) for r in rows]
    ks, _ = kinds(rows)
    return TypedRows(rows, ks)


def test_text_rows_holding_values_become_data_rows():
    t = typed(
        [
            ["Name", "E-mail", "Joined"],
            ["Ann", "ann@example.org", "2020-01-02"],
            ["Date:", "2024-05-01"],  # a form line
            ["Item", "Q1", "Q2", "Q3"],  # codes as column labels
            ["Notes", "see below"],
            ["2024-05-01"],  # one value alone does not start a table
        ]
    )
    assert t.ks == [TEXT] * 6
    assert [t.promote(i) for i in range(6)] == [False, True, False, False, False, False]
    assert t.ks[1] == DATA
    assert t.promote(5, min_cells=1)  # ... but continues one, sparse as it is
    t.notes.add(4)
    assert not t.promote(4)


def test_a_header_line_differs_from_the_shapes_below_and_data_agrees():
    t = typed(
        [
            ["Member ID", "E-mail", "Joined", "Amount"],
            ["M000123", "ann@example.org", "2020-01-02", "1,234.50"],
            ["M000124", "bob@example.org", "2021-03-04", "$99.00"],
            ["M000125", "cy@example.org", "2022-05-06", "12.00"],
        ]
    )

    def features(block, start, **kw):
        sample = body_sample(t.ks, start, 3)
        values = block_features(t, block, sample, gap=False, **kw)
        return dict(zip(FEATURES, values, strict=True))

    header = features((0, 0), 1, prior=True, offset=0)
    assert header["differ"] == 1.0 and header["agree"] == 0.0
    assert header["coverage"] == 1.0 and header["prior"] == 1.0
    data = features((1, 1), 2, prior=False, offset=1)
    assert data["agree"] == 1.0 and data["differ"] == 0.0 and data["values"] == 1.0
    none = features(None, 1, prior=False, offset=0)
    assert none["none"] == 1.0 and none["next_differ"] == 0.0
