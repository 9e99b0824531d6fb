"""Letters from the 12345 hotline's spreadsheets: read, previewed with a column mapping, imported."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from deliberation.mailbox.audit import record
from deliberation.mailbox.models import (
    Category,
    Letter,
)
from deliberation.mailbox.services.access import MailboxError, _require_staff
from deliberation.mailbox.services.letters import submit_letter
from home.i18n import source_language
from home.models import Grid

HOTLINE_FIELDS = ("external_id", "received_at", "subject", "body", "category", "contact_name", "contact", "place", "grid")


HOTLINE_REQUIRED = ("external_id", "body")


MAX_IMPORT_ROWS = 5000


MAX_IMPORT_BYTES = 5 * 1024 * 1024


def read_table(*, data: bytes, filename: str) -> tuple[list[str], list[list[str]]]:
    """Headers and rows (as text) of a CSV (UTF-8 or GB18030, as Excel in China saves it) or XLSX file."""
    import csv

    if len(data) > MAX_IMPORT_BYTES:
        raise MailboxError(_("The file is too large (at most 5 MB)."))
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001  (openpyxl raises many kinds for a broken file)
            raise MailboxError(_("This is not a readable XLSX file.")) from error
        sheet = workbook.worksheets[0]
        table = [
            ["" if cell is None else (cell.isoformat() if hasattr(cell, "isoformat") else str(cell)) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        workbook.close()
    elif filename.lower().endswith(".csv"):
        from deliberation.mailbox.mail import decode_bytes

        text = decode_bytes(data.removeprefix(b"\xef\xbb\xbf"), "utf-8")
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise MailboxError(_("Upload a CSV or XLSX file."))
    table = [[cell.strip() for cell in row] for row in table if any(cell.strip() for cell in row)]
    if not table:
        raise MailboxError(_("The file is empty."))
    if len(table) - 1 > MAX_IMPORT_ROWS:
        raise MailboxError(_("At most %(count)d rows can be imported at once.") % {"count": MAX_IMPORT_ROWS})
    headers = table[0]
    width = len(headers)
    return headers, [(row + [""] * width)[:width] for row in table[1:]]


@dataclass
class HotlineRow:
    number: int
    values: dict[str, str]
    errors: list[str]
    duplicate: bool = False
    received_at: datetime.datetime | None = None
    category: str = Category.OTHER
    grid: Grid | None = None

    @property
    def importable(self) -> bool:
        return not self.errors and not self.duplicate


def _parse_when(value: str) -> datetime.datetime | None:
    value = value.strip().replace("/", "-")
    for pattern in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return timezone.make_aware(datetime.datetime.strptime(value, pattern))
        except ValueError:
            continue
    return None


def preview_hotline(*, upload, mapping: dict[str, str]) -> list[HotlineRow]:
    """Each row as it would be imported, with its errors; rows already imported are marked duplicates."""
    index = {name: upload.headers.index(column) for name, column in mapping.items() if column in upload.headers}
    missing = [name for name in HOTLINE_REQUIRED if name not in index]
    if missing:
        raise MailboxError(_("Choose the columns for the record id and the text."))
    categories = {str(label): value for value, label in Category.choices} | {value: value for value in Category.values}
    with translation.override(source_language()):
        categories |= {str(label): value for value, label in Category.choices}
    grids = {grid.name: grid for grid in Grid.objects.filter(community=upload.community)} | {
        str(grid.number): grid for grid in Grid.objects.filter(community=upload.community)
    }
    ids = [row[index["external_id"]] for row in upload.rows]
    existing = set(
        Letter.objects.filter(channel=Letter.Channel.HOTLINE, external_id__in=[i for i in ids if i]).values_list(
            "external_id", flat=True
        )
    )
    seen: set[str] = set()
    results = []
    for number, row in enumerate(upload.rows, start=2):  # row 1 is the header, as a spreadsheet shows it
        values = {name: row[position] for name, position in index.items()}
        result = HotlineRow(number=number, values=values, errors=[])
        record_id = values.get("external_id", "")
        if not record_id:
            result.errors.append(_("No record id."))
        elif record_id in seen:
            result.errors.append(_("The record id appears twice in the file."))
        seen.add(record_id)
        result.duplicate = record_id in existing
        if not values.get("body"):
            result.errors.append(_("No text."))
        if values.get("received_at"):
            result.received_at = _parse_when(values["received_at"])
            if result.received_at is None:
                result.errors.append(_("Unreadable date: %(value)s") % {"value": values["received_at"]})
        if values.get("category"):
            if values["category"] not in categories:
                result.errors.append(_("Unknown category: %(value)s") % {"value": values["category"]})
            else:
                result.category = categories[values["category"]]
        if values.get("grid"):
            result.grid = grids.get(values["grid"])
            if result.grid is None:
                result.errors.append(_("Unknown grid: %(value)s") % {"value": values["grid"]})
        results.append(result)
    return results


@transaction.atomic
def import_hotline(*, upload, mapping: dict[str, str], actor) -> int:
    """Import every valid row not imported before (idempotent by the record's own id); save the mapping."""
    from deliberation.mailbox.models import HotlineColumnMapping, HotlineUpload

    upload = HotlineUpload.objects.select_for_update().get(pk=upload.pk)
    _require_staff(actor, upload.community)
    rows = preview_hotline(upload=upload, mapping=mapping)
    HotlineColumnMapping.objects.update_or_create(community=upload.community, defaults={"mapping": mapping})
    created = 0
    for row in rows:
        if not row.importable:
            continue
        values = row.values
        body = values["body"]
        submit_letter(
            channel=Letter.Channel.HOTLINE,
            subject=values.get("subject") or body[:30],
            body=body,
            community=upload.community,
            grid=row.grid,
            category=row.category,
            place=values.get("place", "")[:120],
            contact_name=values.get("contact_name", "")[:60],
            contact=values.get("contact", "")[:254],
            actor=actor,
            external_id=values["external_id"][:64],
            received_at=row.received_at,
        )
        created += 1
    upload.imported_at = timezone.now()
    upload.save(update_fields=["imported_at"])
    record(upload, "mailbox.hotline.import", actor=actor, letters=created)
    return created
