"""One spreadsheet-safe cell for every CSV sdsrules writes.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before
one) as a formula, so a case id like ``=HYPERLINK("http://x")`` in a log would become a live link in a QA
report (OWASP "CSV injection"). ``safe_cell`` puts a ``'`` before such a cell, which spreadsheets show as text;
a cell that already starts with ``'`` before one of those characters gets one more, so ``plain_cell`` (used by
the CSV reader) restores every value exactly and event logs survive a round trip.

Every CSV the product writes goes through :func:`row_writer` (or ``safe_cell`` on each cell);
``tests/test_csv_cells.py`` checks each CSV formatter in the registry.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import TextIO

DANGEROUS = frozenset("=+-@\t\r")


def safe_cell(value: object) -> object:
    """``value`` as a CSV cell no spreadsheet will run: text that could start a formula gets a leading ``'``."""
    if isinstance(value, str) and value and (
            value[0] in DANGEROUS or (value[0] == "'" and value[1:2] and (value[1] in DANGEROUS or value[1] == "'"))):
        return "'" + value
    return value


def plain_cell(text: str) -> str:
    """The value ``safe_cell`` was given, from the cell it wrote."""
    if text[:1] == "'" and text[1:2] and (text[1] in DANGEROUS or text[1] == "'"):
        return text[1:]
    return text


def row_writer(stream: TextIO) -> Callable[[Iterable[object]], None]:
    """A function writing one CSV row (``\\n``-terminated) of spreadsheet-safe cells to ``stream``.

    A cell holding a carriage return is quoted: Python's csv module quotes only the line terminator's characters
    (here ``\\n``), and a spreadsheet ends the row at a bare carriage return."""
    out = csv.writer(stream, lineterminator="\n")

    def row(values: Iterable[object]) -> None:
        cells = [safe_cell(v) for v in values]
        if any(isinstance(c, str) and "\r" in c for c in cells):
            stream.write(_quoted_cr(cells))
        else:
            out.writerow(cells)
    return row


def row_text(values: Iterable[object]) -> str:
    """The row ``row_writer`` writes for ``values``, as text."""
    cells = [safe_cell(v) for v in values]
    if any(isinstance(c, str) and "\r" in c for c in cells):
        return _quoted_cr(cells)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def _quoted_cr(cells: list[object]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)  # \r is now special, so such cells are quoted
    return buf.getvalue()[:-2] + "\n"
