"""The report as an Excel workbook (openpyxl): a contents sheet and one sheet per series.

Each series sheet holds one table, oldest first: the history (``actual``), then the forecast
periods with the mean and every interval bound, then the full-year line when there is one.
Shares are written as fractions with a percent number format, so Excel shows ``42.5%`` and
formulas still see ``0.425``. Built from the same :class:`~reports.content.ReportData` as the
HTML and PDF.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.content import ContentBlock, ReportData, SeriesSection
from reports.structures import StructureSection

__all__ = ["append_row", "render_xlsx", "sheet_names"]

_MAX_SHEET_NAME = 31  # Excel's limit
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def sheet_names(ids: Sequence[str], taken: Iterable[str] = ("contents",)) -> list[str]:
    """Unique, Excel-valid sheet names for ``ids`` (31 characters at most, no ``[]:*?/\\``),
    none of them in ``taken`` (case-insensitive, as Excel compares sheet names)."""
    names: list[str] = []
    used = {t.lower() for t in taken}
    for series_id in ids:
        base = _BAD_SHEET_CHARS.sub("_", series_id)[:_MAX_SHEET_NAME] or "series"
        name, n = base, 1
        while name.lower() in used:
            n += 1
            suffix = f"~{n}"
            name = base[: _MAX_SHEET_NAME - len(suffix)] + suffix
        used.add(name.lower())
        names.append(name)
    return names


def append_row(ws: Worksheet, values: Sequence[object]) -> None:
    """Append a row; every string becomes a text cell, never a formula.

    openpyxl turns any string starting with ``=`` into a formula, so a series named
    ``=HYPERLINK("http://...","click")`` would be a live link in the analyst's Excel (formula
    injection, OWASP "CSV injection"). Strings are stored as text, and those starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return also get Excel's quote prefix (the
    leading ``'`` a user types), so editing the cell or saving as CSV does not revive them.
    Numbers stay numbers.
    """
    row = list(values)
    ws.append(row)
    for column, value in enumerate(row, start=1):
        if isinstance(value, str):
            cell = ws.cell(ws.max_row, column)
            cell.data_type = "s"
            if value.startswith(_FORMULA_PREFIXES):
                cell.quotePrefix = True


def _number_format(kind: str) -> str:
    return "0.0%" if kind == "share" else "#,##0.00"


def _contents(ws: Worksheet, data: ReportData, names: Sequence[str]) -> None:
    append_row(ws, [data.title])
    ws["A1"].font = Font(bold=True, size=14)
    if data.description:
        append_row(ws, [data.description])
    append_row(ws, ["Data as of", data.as_of.strftime("%Y-%m-%d %H:%M %Z")])
    append_row(ws, ["Generated", data.generated_at.strftime("%Y-%m-%d %H:%M %Z")])
    append_row(ws, ["Horizon (periods)", data.horizon])
    append_row(ws, ["Intervals", ", ".join(f"{lv}%" for lv in data.levels)])
    append_row(ws, [])
    header = ["Sheet", "Series", "Title", "Unit", "Source", "Last observation", "Last value", "Summary"]
    append_row(ws, header)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    for name, s in zip(names, data.sections, strict=True):
        append_row(
            ws, [name, s.series_id, s.title, s.unit, s.source, s.last_period, s.last_value, s.sentence or s.explanation]
        )
        ws.cell(ws.max_row, 7).number_format = _number_format(s.kind)
    for col, width in zip("ABCDEFGH", (24, 30, 40, 10, 30, 14, 12, 80), strict=True):
        ws.column_dimensions[col].width = width


def _series_sheet(ws: Worksheet, s: SeriesSection, levels: Sequence[int]) -> None:
    append_row(ws, [s.title])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, ["Series", s.series_id])
    append_row(ws, ["Unit", s.unit or ""])
    append_row(ws, ["Source", s.source or "not recorded"])
    append_row(ws, ["Model", s.model_description or s.model])
    if not s.ok:
        append_row(ws, ["No forecast", s.explanation or s.error])
    elif s.sentence:
        append_row(ws, ["Summary", s.sentence])
    append_row(ws, [])
    header = ["period", "actual", "forecast"] + [f"{side}_{lv}" for lv in levels for side in ("lo", "hi")]
    append_row(ws, header)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    ws.freeze_panes = f"A{ws.max_row + 1}"  # a string: ws.cell() would create an empty row
    first_data = ws.max_row + 1
    for period, value in zip(s.history_periods, s.history_values, strict=True):
        append_row(ws, [period, value if value == value else None])  # NaN (a gap) stays an empty cell
    for row in s.forecasts:
        bounds = [b for lv in levels for b in row.bounds.get(lv, (None, None))]
        append_row(ws, [row.period, None, row.mean, *bounds])
    if s.full_year is not None:
        fy = s.full_year
        label = f"{fy.year} {'total' if fy.how == 'sum' else 'average'}"
        bounds = [b for lv in levels for b in fy.bounds.get(lv, (None, None))]
        append_row(ws, [label, None, fy.headline, *bounds])
    fmt = _number_format(s.kind)
    for row_cells in ws.iter_rows(min_row=first_data, min_col=2, max_col=len(header)):
        for cell in row_cells:
            cell.number_format = fmt
    for block in s.blocks:
        _block(ws, block)
    for i in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 14


def _block(ws: Worksheet, block: ContentBlock) -> None:
    """An extra table of a section (scenarios, drivers...) under the series' table."""
    append_row(ws, [])
    append_row(ws, [block.title])
    ws.cell(ws.max_row, 1).font = _BOLD
    append_row(ws, list(block.columns))
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    fmt = _number_format(block.kind)
    for row in block.rows:
        append_row(ws, list(row))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, float):
                cell.number_format = fmt
    if block.note:
        append_row(ws, [block.note])


def _structure_sheet(ws: Worksheet, st: StructureSection, levels: Sequence[int]) -> None:
    """A structure's coherent forecast: one row per period, mean and bounds of every member."""
    append_row(ws, [st.title])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, ["Structure", st.name])
    if st.description:
        append_row(ws, ["Description", st.description])
    if not st.ok:
        append_row(ws, ["No forecast", st.explanation or st.error])
        return
    append_row(ws, [])
    columns = ("mean", *(f"{side}_{lv}" for lv in levels for side in ("lo", "hi")))
    header = ["period"] + [f"{m} {col}" for m in st.members for col in columns]
    append_row(ws, header)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    first = ws.max_row + 1
    for i, period in enumerate(st.periods):
        values: list[str | float] = [period]
        for m in st.members:
            values.append(st.means[m][i])
            values.extend(b for lv in levels for b in st.bounds[m][lv][i])
        append_row(ws, values)
    fmt = _number_format("share" if st.share else "level")
    for row_cells in ws.iter_rows(min_row=first, min_col=2, max_col=len(header)):
        for cell in row_cells:
            cell.number_format = fmt


def _scenarios_sheet(ws: Worksheet, data: ReportData) -> None:
    """Every series' scenario forecasts, one row per series, scenario and period (long format)."""
    append_row(ws, ["Scenarios: one forecast per assumed path of the drivers, from the same fitted model"])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [])
    header = ["series", "scenario", "period", "mean"] + [f"{side}_{lv}" for lv in data.levels for side in ("lo", "hi")]
    append_row(ws, header)
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    ws.freeze_panes = f"A{ws.max_row + 1}"
    for s in data.sections:
        fmt = _number_format(s.kind)
        for name, rows in s.scenarios.items():
            for row in rows:
                bounds = [b for lv in data.levels for b in row.bounds.get(lv, (None, None))]
                append_row(ws, [s.series_id, name, row.period, row.mean, *bounds])
                for cell in ws[ws.max_row][3:]:
                    cell.number_format = fmt
    for i, width in enumerate((24, 20, 12), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def render_xlsx(data: ReportData) -> bytes:
    """The report as an ``.xlsx`` workbook.

    Parameters
    ----------
    data : ReportData
        Output of :func:`reports.content.build_report`.

    Returns
    -------
    bytes
        The workbook: a ``contents`` sheet (report identity, one line per series with its
        source, last observation and summary or the reason it has no forecast), then one
        sheet per series (history, forecasts and interval bounds), one per structure and,
        when a series has scenarios of its drivers, a ``scenarios`` sheet (series, scenario,
        period, mean and bounds).
    """
    wb = Workbook()
    contents = wb.active
    assert contents is not None  # a new workbook always has one sheet
    contents.title = "contents"
    names = sheet_names([s.series_id for s in data.sections])
    _contents(contents, data, names)
    for name, section in zip(names, data.sections, strict=True):
        _series_sheet(wb.create_sheet(name), section, data.levels)
    taken = {"contents", *names}
    structure_names = sheet_names([st.name for st in data.structures], taken)
    for name, structure in zip(structure_names, data.structures, strict=True):
        _structure_sheet(wb.create_sheet(name), structure, data.levels)
    if any(s.scenarios for s in data.sections):
        _scenarios_sheet(wb.create_sheet(sheet_names(["scenarios"], {*taken, *structure_names})[0]), data)
    # The workbook is dated by the report, not by when it was rendered (openpyxl stamps
    # "modified" itself on saving).
    wb.properties.created = data.generated_at.replace(tzinfo=None)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
