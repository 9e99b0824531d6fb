"""Reading bulk-award sheets (CSV or XLSX), e.g. a grid's garbage-sorting sheet.

One row per award, with a header row naming the columns (English or Chinese):
resident (mobile number or e-mail), rule (its code), date (YYYY-MM-DD), and optionally
points, hours and reason. Reading checks only the shape; `services.bulk_award` checks
the content of each row.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_BYTES = 1_000_000
MAX_ROWS = 2000
HEADERS = {
    "resident": "resident",
    "居民": "resident",
    "手机": "resident",
    "手机号": "resident",
    "邮箱": "resident",
    "mobile": "resident",
    "email": "resident",
    "e-mail": "resident",
    "rule": "rule",
    "规则": "rule",
    "date": "date",
    "日期": "date",
    "points": "points",
    "积分": "points",
    "hours": "hours",
    "时长": "hours",
    "小时": "hours",
    "reason": "reason",
    "原因": "reason",
    "备注": "reason",
}
REQUIRED = ("resident", "rule", "date")


class SheetError(Exception):
    """The file as a whole cannot be read; nothing is awarded."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row's number in the file (the header is usually row 1)
    resident: str
    rule: str
    date: str
    points: str = ""
    hours: str = ""
    reason: str = ""


def read_sheet(name: str, content: bytes) -> list[SheetRow]:
    if len(content) > MAX_BYTES:
        raise SheetError(_("The file is larger than 1 MB; split it into smaller files."))
    lower = name.lower()
    if lower.endswith(".xlsx"):
        table = _xlsx_rows(content)
    elif lower.endswith(".csv"):
        table = _csv_rows(content)
    else:
        raise SheetError(_("Upload a CSV or XLSX file."))
    return _rows(table)


def _csv_rows(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(_("The CSV file is neither UTF-8 nor GB18030 text."))
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as error:
        raise SheetError(_("The CSV file is malformed: %(error)s") % {"error": error}) from error


def _xlsx_rows(content: bytes) -> list[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SheetError(_("The XLSX file cannot be read.")) from error
    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2):
        rows.append([_cell(value) for value in values])
    workbook.close()
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(table: list[list[str]]) -> list[SheetRow]:
    numbered = [(number, row) for number, row in enumerate(table, start=1) if any(cell.strip() for cell in row)]
    if not numbered:
        raise SheetError(_("The file is empty."))
    header = [HEADERS.get(cell.strip().lower(), "") for cell in numbered[0][1]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise SheetError(
            _("The first row must name the columns resident, rule and date; missing: %(columns)s")
            % {"columns": ", ".join(missing)}
        )
    if len(numbered) - 1 > MAX_ROWS:
        raise SheetError(_("At most %(rows)s rows per file.") % {"rows": MAX_ROWS})
    rows = []
    for number, cells in numbered[1:]:
        values = {name: cells[index].strip() for index, name in enumerate(header) if name and index < len(cells)}
        rows.append(SheetRow(number=number, **{name: values.get(name, "") for name in HEADERS.values() if name}))
    return rows
