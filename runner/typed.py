"""Cell classes of sheet rows, computed on demand, and text rows that hold data.

Row kinds (``runner.rowkinds``) come from Python types only, so a roster whose
dates, amounts and IDs are text has no *data* rows at all. ``TypedRows`` classifies
the cells of a row (``runner.cellshape``) the first time header detection asks, and
``promote`` turns a text row holding values (an e-mail, a date, an amount, an ID)
into a data row. Only rows near table starts and spacer rows are ever asked about,
so a large sheet is not classified cell by cell.
"""

from __future__ import annotations

from runner.cellshape import CODE, EMPTY, MISSING, VALUES, WORDS, YEAR, cell_class
from runner.rowkinds import DATA, TEXT

TEXT_WINDOW = 60  # text rows examined for values when looking for a table's data


class TypedRows:
    """Lazily classified rows of one sheet (or strip); shares ``ks`` with the caller."""

    def __init__(self, rows: list[list], ks: list[str]):
        self.rows = rows
        self.ks = ks
        self._classes: dict[int, tuple[str, ...]] = {}
        self.notes: set[int] = set()  # footnote rows: text for good, never promoted

    def classes(self, i: int) -> tuple[str, ...]:
        """The class of every cell of row ``i`` (cached)."""
        got = self._classes.get(i)
        if got is None:
            got = self._classes[i] = tuple(map(cell_class, self.rows[i]))
        return got

    def text_data(self, i: int, min_cells: int = 2) -> bool:
        """A text row whose cells hold values the way data rows do (with at least
        ``min_cells`` cells: a lone date under a title does not start a table)."""
        cls = self.classes(i)
        filled = [c for c in cls if c is not EMPTY]
        if len(filled) < min_cells:
            return False
        row = self.rows[i]
        first = next(v for v in row if v is not None)
        if len(filled) == 2 and isinstance(first, str) and first.rstrip()[-1:] == ":":
            return False  # "Date: | 2024-05-01", a form line
        values = [c for c in filled if c in VALUES and c != YEAR]
        if not values:
            return False
        # A row of codes ("Item | Q1 | Q2 | Q3", "FY2020") is as often a header.
        codes_only = all(c == CODE for c in values)
        return not (codes_only and len(values) >= 3 and len(filled) - len(values) <= 1)

    def promote(self, i: int, min_cells: int = 2) -> bool:
        """Make a text row holding values a data row; True if row ``i`` is data."""
        k = self.ks[i]
        if k == TEXT and i not in self.notes and self.text_data(i, min_cells):
            self.ks[i] = DATA
            return True
        return k == DATA


def is_label(cls: str) -> bool:
    """Words or a placeholder: what a header cell usually is."""
    return cls == WORDS or cls == MISSING


__all__ = ["TEXT_WINDOW", "TypedRows", "is_label"]
