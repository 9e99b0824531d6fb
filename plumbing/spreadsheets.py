"""Writing CSV and XLSX files that are safe to open in a spreadsheet program.

Every CSV or XLSX the portal writes (rosters, the concerns table, the points dashboard, a
resident's points statement) goes through these helpers. Residents choose their display names
and staff type reward names, so a text such as ``=HYPERLINK("http://x","y")`` must stay text:
spreadsheet programs run a cell that starts with =, +, -, @, a tab or a carriage return as a
formula. Following OWASP's advice on CSV injection, such a text gets a leading single quote;
numbers, dates and empty cells are written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.utils.functional import Promise

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value to write in a cell: texts that a spreadsheet would run are quoted, the rest unchanged."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class SafeCsvWriter:
    """`csv.writer` whose rows go through `safe_cell`; `writerow` returns what the writer returns."""

    def __init__(self, out: Any) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out)


def xlsx_row(row: Iterable[Any]) -> list[Any]:
    """A row for openpyxl's `sheet.append`: quoted like a CSV row, without the characters XLSX cannot hold.

    openpyxl stores a text beginning with "=" as a formula, and refuses control characters
    (a display name with one would otherwise break the whole export).
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cells = []
    for value in row:
        if isinstance(value, Promise):
            value = str(value)
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cells.append(safe_cell(value))
    return cells
