"""The shared safe-cell helper that every CSV and XLSX export of the portal uses."""

import csv
import datetime
import io

import pytest
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from plumbing.spreadsheets import csv_writer, safe_cell, xlsx_row

# Texts a spreadsheet program would run as a formula (OWASP's list of leading characters).
FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_texts_that_would_run_get_a_leading_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["王阿姨", "13812345678", "", "a=b", 42, -2, 1.5, None, datetime.date(2026, 1, 1)])
def test_other_values_stay_as_they_are(value):
    assert safe_cell(value) == value


def test_lazy_translations_are_written_as_text():
    assert safe_cell(gettext_lazy("=lazy")) == "'=lazy"


def test_csv_rows_are_quoted_and_numbers_stay_numbers():
    out = io.StringIO()
    csv_writer(out).writerows([[text, -2] for text in FORMULAS])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert [row[0] for row in rows] == ["'" + text for text in FORMULAS]
    assert {row[1] for row in rows} == {"-2"}


def test_xlsx_cells_are_text_not_formulas():
    workbook = Workbook()
    sheet = workbook.active
    for text in FORMULAS:
        sheet.append(xlsx_row([text, -2]))
    sheet.append(xlsx_row(["\x07=1+1"]))  # openpyxl refuses control characters: they are dropped
    out = io.BytesIO()
    workbook.save(out)
    rows = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows())
    for row, text in zip(rows, FORMULAS, strict=False):
        # XML reads a carriage return back as a line feed.
        assert row[0].data_type == "s" and row[0].value == ("'" + text).replace("\r", "\n")
        assert row[1].data_type == "n" and row[1].value == -2
    assert rows[-1][0].data_type == "s" and rows[-1][0].value == "'=1+1"
