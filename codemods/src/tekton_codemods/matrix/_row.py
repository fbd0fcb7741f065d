"""The one table row a matrix cell ends with, and the notes under it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._run import CellResult

__all__ = ["COLUMNS", "header", "render", "row"]

COLUMNS = ("component", "python", "collected before", "passed before", "collected after", "passed after",
           "parity", "seconds")
_WIDTHS = (10, 6, 16, 13, 15, 12, 9, 7)


def _line(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, _WIDTHS, strict=True)) + " |"


def header() -> str:
    """The column names and the Markdown separator line."""
    return _line(COLUMNS) + "\n" + "|" + "|".join("-" * (width + 2) for width in _WIDTHS) + "|"


def row(result: CellResult) -> str:
    """``collected``/``passed`` count test cases (a module that fails to import counts in the notes, not here);
    ``seconds`` is the wall time of the whole cell: copy, install, tests before, migration, tests after."""
    parity = result.parity
    counts = ("-",) * 4 if parity is None else (
        str(parity.collected_before), str(parity.passed_before), str(parity.collected_after), str(parity.passed_after))
    return _line((result.component, result.python, *counts, result.verdict, f"{result.seconds:.1f}"))


def render(result: CellResult) -> str:
    """Header, the row, then one ``- note`` line per note."""
    notes = list(result.notes)
    parity = result.parity
    if parity is not None and (parity.uncollectable_before or parity.uncollectable_after):
        notes.insert(len(notes) - 1, f"test modules that could not be imported at collection: "
                     f"{parity.uncollectable_before} before, {parity.uncollectable_after} after")
    return f"{header()}\n{row(result)}\n" + "\n".join(f"  - {note}" for note in notes)
