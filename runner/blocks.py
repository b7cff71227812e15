"""How a sheet's rows are split: blocks, and the alternative splits of a region.

Local, inclusive row indices throughout. A *block* is a table (header lines and
data rows) or a data-less block (a title, notes, ``Label: value`` lines, a totals
row), whose lines are all reported as its header. A *region* is a run of rows whose
split into blocks is uncertain: each *choice* splits all of the region's rows, so
whichever choice wins, every non-empty row lands in exactly one block.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """``header`` and ``body`` are inclusive local row ranges; ``body`` None: a block
    without data rows whose lines are all reported as its header."""

    header: tuple[int, int] | None
    body: tuple[int, int] | None


@dataclass(frozen=True)
class Choice:
    """One way to split a region. ``blocks[main]`` is the table the choice is about
    (None: a region without one); ``last`` is its last header line (None: no
    header); ``score`` the layout's confidence; ``features`` what it came from."""

    blocks: tuple[Block, ...]
    last: int | None
    score: float = 0.0
    features: tuple[float, ...] = ()
    main: int | None = None
    order: int = 0  # generation order: the heuristic's own choice is 0

    @property
    def table(self) -> Block | None:
        """The block the choice is about, if any."""
        return None if self.main is None else self.blocks[self.main]


@dataclass(frozen=True)
class Region:
    """The choices for a run of rows, the layout's best first."""

    choices: tuple[Choice, ...]

    @property
    def pick(self) -> Choice:
        return self.choices[0]


def fixed(blocks: list[Block]) -> Region:
    """A region whose split is not in doubt."""
    return Region((Choice(tuple(blocks), None),))


__all__ = ["Block", "Choice", "Region", "fixed"]
