"""CSV / JSON / Excel files → validated long frames (``unique_id, ds, y``) plus series metadata.

Layouts
-------
- **long**: columns ``unique_id, ds, y`` (aliases: ``series_id``/``id``, ``period``/``date``,
  ``value``), optionally ``name``, ``unit``, ``kind``, ``frequency`` and the tag columns
  ``reporter, partner, flow, currency, source`` (kept as tags when constant per series);
  other columns are ignored.
- **wide**: the first column holds the periods, every other column is one series, its
  header being the series id.
- **JSON**: a list of ``{"unique_id", "ds", "y"}`` records, or ``{"series": [...]}`` whose
  items are such records or ``{"unique_id", "name", "unit", "kind", "frequency", "tags",
  "data": [{"ds", "y"}, ...]}`` objects.
- **Excel** (``.xlsx``): long or wide, on the first sheet or a named one.

The rows are validated by the one series parser, :func:`forecasting.series.parse_long`
(the same rules as the store, the REST API and reports). Every validation error is an
:class:`~data.exceptions.IngestError` that carries the parser's ``code`` and names the line
(1-based, as an editor shows it; the row for Excel, the record for JSON), the column, and
the value.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data._raw import Raw as _Raw
from data._raw import where as _where
from data.exceptions import IngestError, UploadLimitError
from data.meta import SeriesMeta
from data.publications import (
    PUBLICATION_LAYOUTS,
    SCALES,
    currency_in_header,
    publication_to_raw,
    recognise_layout,
    scale_in_header,
)
from forecasting.exceptions import (
    InvalidSeriesError,
    InvalidSeriesIdError,
    NegativeValueError,
    NonFiniteValueError,
    NonNumericValueError,
    ShareOutOfRangeError,
)
from forecasting.series import LongObservations, NumberFormat, parse_long

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "FORMATS",
    "LAYOUTS",
    "TAG_COLUMNS",
    "IngestResult",
    "UploadLimits",
    "load_series",
    "read_bytes",
]

#: Largest upload :func:`load_series` reads unless told otherwise (50 MiB).
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024

logger = logging.getLogger(__name__)

FORMATS = ("csv", "json", "xlsx")
#: Table layouts of CSV and Excel files (``auto`` recognises the others).
LAYOUTS = ("auto", "long", "wide", *PUBLICATION_LAYOUTS)
#: Columns of a long file that become series tags when constant within each series.
TAG_COLUMNS = ("reporter", "partner", "flow", "currency", "source")
_ALIASES = {
    "unique_id": ("unique_id", "series_id", "id"),
    "ds": ("ds", "period", "date"),
    "y": ("y", "value"),
}
_META_COLUMNS = ("name", "unit", "kind", "frequency")
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class UploadLimits:
    """Caps on what one upload may hold, checked before the table is built.

    A few kilobytes can describe a table of millions of cells (80,000 commas are 80,000
    columns; an Excel sheet can declare its used range as ``A1:XFD1048576``), so the byte
    limit alone does not bound the work or the memory of reading an upload.

    Parameters
    ----------
    max_columns : int
        Columns of a CSV or Excel table (the header row, empty headers included).
    max_series : int
        Distinct series (the columns after the first of a wide table; ids of a long one).
    max_cells : int
        Rows times columns of a CSV or Excel table; three per observation of a JSON file
        (id, period, value). For Excel the sheet's declared used range counts.
    """

    max_columns: int = 1_000
    max_series: int = 10_000
    max_cells: int = 2_000_000

    def check(self, limit: str, found: int, what: str, *, line: int | None = None) -> None:
        """Raise :class:`UploadLimitError` if ``found`` exceeds the cap named ``limit``.

        Parameters
        ----------
        limit : {"max_upload_columns", "max_upload_series", "max_upload_cells"}
            The cap, by its setting's name.
        found : int
            What the upload holds.
        what : str
            Says where the count comes from, for the message ("the header line has").

        Raises
        ------
        UploadLimitError
            Naming the limit, its setting and the count.
        """
        maximum = {
            "max_upload_columns": self.max_columns,
            "max_upload_series": self.max_series,
            "max_upload_cells": self.max_cells,
        }[limit]
        if found > maximum:
            noun = limit.removeprefix("max_upload_")
            raise UploadLimitError(
                f"{what} {found:,} {noun}; an upload may hold at most {maximum:,} {noun} "
                f"(setting TRADECAST_{limit.upper()}). Split the file or raise the limit.",
                limit=limit,
                maximum=maximum,
                found=found,
                line=line,
            )


@dataclass
class IngestResult:
    """A validated upload.

    Attributes
    ----------
    frame : pd.DataFrame
        Long frame ``unique_id`` (str), ``ds`` (pandas periods; a ``period`` dtype when the
        file has one frequency, else objects), ``y`` (float, NaN for gaps), sorted by
        ``unique_id`` then ``ds``.
    metas : dict of str to SeriesMeta
        Metadata of each series, by id, in order of first appearance.
    source : str
        File name or description of the input.
    scale : str
        The scale the values were written in (``units``, ``thousands``, ``millions``,
        ``billions``), declared or read from the value column's header; ``frame.y`` is in
        units.
    """

    frame: pd.DataFrame
    metas: dict[str, SeriesMeta] = field(default_factory=dict)
    source: str = ""
    scale: str = "units"

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.metas)


# -- reading bytes ---------------------------------------------------------------------------


def read_bytes(path_or_buffer: Any, max_bytes: int) -> tuple[bytes, str]:
    """Read a path, bytes or file object, refusing more than ``max_bytes``.

    Returns
    -------
    (bytes, str)
        The content and a description (file name or ``"<buffer>"``).

    Raises
    ------
    IngestError
        If the input is larger than ``max_bytes`` or the path does not exist.
    """

    def too_big(size: int | None) -> IngestError:
        shown = f"{size / 1e6:.1f} MB" if size is not None else f"more than {max_bytes / 1e6:.1f} MB"
        return IngestError(
            f"the file is {shown}; the limit is {max_bytes / 1e6:.1f} MB ({max_bytes} bytes, "
            "setting TRADECAST_MAX_UPLOAD_BYTES). Split it or raise the limit."
        )

    if isinstance(path_or_buffer, bytes | bytearray | memoryview):
        data = bytes(path_or_buffer)
        if len(data) > max_bytes:
            raise too_big(len(data))
        return data, "<bytes>"
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer)
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            raise IngestError(f"no such file: {str(path)!r}.") from exc
        if size > max_bytes:
            raise too_big(size)
        return path.read_bytes(), path.name
    if hasattr(path_or_buffer, "read"):
        chunk = path_or_buffer.read(max_bytes + 1)
        data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
        if len(data) > max_bytes:
            raise too_big(None)
        return data, str(getattr(path_or_buffer, "name", "<buffer>"))
    raise IngestError(f"cannot read {type(path_or_buffer).__name__}; pass a path, bytes or a file object.")


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = ""
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            hint = " The file looks like UTF-16;"
        raise IngestError(
            f"line {line}, column {column}: the file is not valid UTF-8 (byte 0x{data[exc.start]:02X}).{hint} "
            "Save it as UTF-8 (with or without BOM), e.g. 'CSV UTF-8' in Excel.",
            line=line,
            column=column,
            value=f"0x{data[exc.start]:02X}",
        ) from exc


def _sniff_format(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("csv", "json", "txt"):
        return "csv" if suffix == "txt" else suffix
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"[", b"{") else "csv"


# -- parsing into _Raw -----------------------------------------------------------------------


def _column_map(columns: list[str]) -> dict[str, int]:
    """Map canonical names (unique_id, ds, y, name, unit...) to 0-based column positions."""
    lowered = [str(c).strip().lower() for c in columns]
    found: dict[str, int] = {}
    for canon, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                found[canon] = lowered.index(alias)
                break
    if "y" not in found and "unique_id" in found:
        # A value column named with its unit: "Value (USD millions)", "value_musd" (in a long
        # file only: a wide file's series may well be called "value_...").
        named = [j for j, c in enumerate(lowered) if re.match(r"value[\s_(]", c)]
        if len(named) == 1:
            found["y"] = named[0]
    for extra in (*_META_COLUMNS, *TAG_COLUMNS):
        if extra in lowered and extra not in found:
            found[extra] = lowered.index(extra)
    return found


def _table_to_raw(
    table: pd.DataFrame,
    lines: np.ndarray,
    layout: str,
    loc_word: str,
    header_line: int,
    series_id: str | None,
    sheet: str = "",
) -> _Raw:
    """Turn a text table (all cells str) into observation rows."""
    columns = [str(c).strip() for c in table.columns]
    publication = layout if layout in PUBLICATION_LAYOUTS else None
    if layout == "auto":
        publication = recognise_layout(columns, table.iloc[:, 0] if len(columns) else None)
    if publication is not None:
        return publication_to_raw(publication, table, lines, loc_word, header_line, sheet)
    cmap = _column_map(columns)
    if series_id is not None and "unique_id" not in cmap and layout in ("auto", "long"):
        cmap = _single_series_columns(columns, cmap, loc_word, header_line, series_id)
    is_long = "ds" in cmap and "y" in cmap
    if layout == "long" and not is_long:
        raise IngestError(
            f"{loc_word} {header_line}: a long file needs columns 'unique_id', 'ds' and 'y' "
            f"(or 'series_id', 'period', 'value'); found {columns}."
        )
    if layout == "wide" or (layout == "auto" and not is_long):
        if len(columns) < 2:
            raise IngestError(
                f"{loc_word} {header_line}: expected a long file (unique_id, ds, y) or a wide file "
                f"(a period column, then one column per series); found only {columns}."
            )
        return _wide_to_raw(table, columns, lines, loc_word, header_line)
    return _long_to_raw(table, columns, cmap, lines, loc_word, header_line, series_id)


def _single_series_columns(
    columns: list[str], cmap: dict[str, int], loc_word: str, header_line: int, series_id: str
) -> dict[str, int]:
    """The period and value columns of a one-series file named by ``series_id=``.

    Statistics offices head the value column with a description (``Value (USD millions)``,
    ``Exports to China (USD millions)``), which is no series id: with ``series_id`` given,
    the one column besides the periods (and name/unit/tag columns) holds the values.
    """
    found = dict(cmap)
    ds = found.setdefault("ds", 0)
    if "y" in found:
        return found
    taken = {pos for key, pos in found.items() if key in _META_COLUMNS or key in TAG_COLUMNS} | {ds}
    others = [j for j in range(len(columns)) if j not in taken]
    named = [j for j in others if re.match(r"value[\s_(]", columns[j].strip().lower())]
    picked = named if len(named) == 1 else others
    if len(picked) != 1:
        raise IngestError(
            f"{loc_word} {header_line}: series_id={series_id!r} names one series, but the file has "
            f"{len(picked)} value columns {[columns[j] for j in picked]}; keep one value column, or drop "
            "series_id (--series-id) to store each column as a series named by its header."
        )
    found["y"] = picked[0]
    return found


def _wide_to_raw(table: pd.DataFrame, columns: list[str], lines: np.ndarray, loc_word: str, header_line: int) -> _Raw:
    """A wide table: the first column holds the periods, each other column is one series."""
    n, k = len(table), len(columns) - 1
    values = table.iloc[:, 1:].to_numpy(dtype=object)
    return _Raw(
        uid=np.repeat(np.array(columns[1:], dtype=object)[None, :], n, axis=0).ravel(),
        ds=np.repeat(table.iloc[:, 0].to_numpy(dtype=object), k),
        y=values.ravel(),
        loc=np.repeat(lines, k),
        uid_col=np.tile(np.arange(2, k + 2, dtype=np.int64), n),
        uid_loc=np.full(n * k, header_line, dtype=np.int64),
        ds_col=1,
        y_col=np.tile(np.arange(2, k + 2, dtype=np.int64), n),
        y_name=np.tile(np.array(columns[1:], dtype=object), n),
        ds_name=columns[0],
        uid_name="header",
        loc_word=loc_word,
    )


def _long_to_raw(
    table: pd.DataFrame,
    columns: list[str],
    cmap: dict[str, int],
    lines: np.ndarray,
    loc_word: str,
    header_line: int,
    series_id: str | None,
) -> _Raw:
    """A long table: one observation per row, ``unique_id`` (or ``series_id=``), ``ds``, ``y``."""
    n = len(table)
    if "unique_id" in cmap:
        uid = table.iloc[:, cmap["unique_id"]].to_numpy(dtype=object)
        uid_col = cmap["unique_id"] + 1
        uid_name = columns[cmap["unique_id"]]
    elif series_id is not None:
        uid = np.full(n, series_id, dtype=object)
        uid_col, uid_name = 0, "series_id"
    else:
        raise IngestError(
            f"{loc_word} {header_line}: the file has 'ds' and 'y' but no 'unique_id' column; "
            "add one or pass series_id= (the form field, or --series-id) for a single series."
        )
    extra = {
        name: table.iloc[:, pos].to_numpy(dtype=object)
        for name, pos in cmap.items()
        if name in _META_COLUMNS or name in TAG_COLUMNS
    }
    return _Raw(
        uid=uid,
        ds=table.iloc[:, cmap["ds"]].to_numpy(dtype=object),
        y=table.iloc[:, cmap["y"]].to_numpy(dtype=object),
        loc=lines,
        uid_col=np.full(n, uid_col, dtype=np.int64),
        uid_loc=lines,
        ds_col=cmap["ds"] + 1,
        y_col=np.full(n, cmap["y"] + 1, dtype=np.int64),
        y_name=np.full(n, columns[cmap["y"]], dtype=object),
        ds_name=columns[cmap["ds"]],
        uid_name=uid_name,
        loc_word=loc_word,
        extra=extra,
    )


def _csv_line_numbers(text: str, n_rows: int, delimiter: str, first_line: int) -> np.ndarray:
    """1-based line on which each data record starts (records after the header at ``first_line``)."""
    if '"' not in text:
        # No quoting: one record per physical line.
        return np.arange(first_line + 1, first_line + n_rows + 1, dtype=np.int64)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    starts = []
    previous_end = 0
    for _ in reader:
        starts.append(previous_end + 1)
        previous_end = reader.line_num
    return np.asarray(starts[first_line : first_line + n_rows], dtype=np.int64)


def _check_csv_size(text: str, limits: UploadLimits, delimiter: str, first_line: int = 1) -> None:
    """Refuse a CSV whose header, any row or whole table exceeds the caps, before pandas builds anything.

    Every record counts, not only the header: pandas turns the surplus fields of a row wider
    than the header into index levels, so one data row of 80,000 commas under a two-column
    header cost 15 s and 130 MB before it was refused. The C csv reader walks the records
    at about 50 MB/s and the first row past a cap stops it.
    """
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return  # pandas reports the syntax error with its position
    n_columns = len(header)
    limits.check("max_upload_columns", n_columns, "the header line has", line=first_line)
    # Lines bound the records from above (a quoted field may span lines); counting them is
    # a fast scan, and rows times the header's columns is the table pandas would build.
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    limits.check("max_upload_cells", max(n_lines - 1, 0) * n_columns, "the table has up to")
    if '"' not in text:
        # No quotes: a record is a line and its fields are its separators plus one (a fast scan).
        _check_line_widths(text, limits, delimiter, first_line)
        return
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    cells = 0
    try:
        for record in reader:
            width = len(record)
            cells += width
            if width > n_columns:
                _refuse_wide_row(reader.line_num + first_line - 1, width, n_columns, limits, delimiter)
            limits.check("max_upload_cells", cells, "the table has at least")
    except csv.Error:
        return  # pandas reports the syntax error with its position


def _refuse_wide_row(line: int, width: int, n_columns: int, limits: UploadLimits, delimiter: str) -> None:
    """A data row with more fields than the header: never a readable table, refused at once."""
    name = DELIMITERS.get(delimiter, repr(delimiter))
    raise IngestError(
        f"line {line:,} has {width:,} fields ({name}-separated) but the header line has {n_columns:,}; "
        f"every row must have at most as many fields as the header (and no upload more than "
        f"{limits.max_columns:,} columns, TRADECAST_MAX_UPLOAD_COLUMNS). Remove the extra separators.",
        line=line,
        value=f"{width} fields",
    )


def _check_line_widths(text: str, limits: UploadLimits, delimiter: str, first_line: int) -> None:
    widths = [line.count(delimiter) + 1 for line in text.split("\n")]
    widest = max(widths)
    if widest > widths[0]:
        at = next(i for i, w in enumerate(widths) if w > widths[0])
        _refuse_wide_row(at + first_line, widths[at], widths[0], limits, delimiter)
    limits.check("max_upload_cells", sum(widths), "the table has up to")


#: Field separators recognised in a CSV header line, and the name used in parameters.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def _sniff_delimiter(header: str) -> str:
    """The separator of a header line: the one of ``, ; tab`` it holds most often outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _skip_to_header(text: str, header_row: int) -> tuple[str, int]:
    """The text from line ``header_row`` on (1-based), and that line number."""
    if header_row < 1:
        raise IngestError(f"header_row must be >= 1 (the line of the column names); got {header_row}.")
    if header_row == 1:
        return text, 1
    pieces = text.split("\n", header_row - 1)
    if len(pieces) < header_row:
        raise IngestError(f"header_row={header_row} but the file has only {len(pieces)} lines.", line=header_row)
    return pieces[-1], header_row


def _read_csv(text: str, layout: str, series_id: str | None, limits: UploadLimits, opts: _TextOptions) -> _Raw:
    if not text.strip():
        raise IngestError("the file is empty: expected a header line and at least one data line.", line=1)
    text, header_line = _skip_to_header(text, opts.header_row)
    delimiter = opts.delimiter or _sniff_delimiter(text.split("\n", 1)[0])
    opts.delimiter = delimiter
    _check_csv_size(text, limits, delimiter, header_line)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        raise IngestError(f"the CSV file cannot be parsed: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise IngestError("the file is empty: expected a header line and at least one data line.") from exc
    lines = _csv_line_numbers(text, len(table), delimiter, 1) + (header_line - 1)
    # Spreadsheet exports often end rows with a stray comma: drop headerless empty columns.
    stray = [c for c in table.columns if str(c).startswith("Unnamed: ") and (table[c] == "").all()]
    table = table.drop(columns=stray)
    blank = (table == "").all(axis=1).to_numpy()
    table, lines = table[~blank], lines[~blank]
    if len(table) == 0:
        raise IngestError(
            "the file has a header line but no data lines: nothing to load.", line=header_line, column_name="header"
        )
    return _table_to_raw(table, lines, layout, "line", header_line, series_id)


def _read_xlsx(
    data: bytes, layout: str, sheet: str | int | None, series_id: str | None, limits: UploadLimits, header_row: int
) -> _Raw:
    import openpyxl

    if header_row < 1:
        raise IngestError(f"header_row must be >= 1 (the row of the column names); got {header_row}.")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise IngestError(f"the Excel file cannot be opened: {exc}") from exc
    try:
        ws = _pick_sheet(book, sheet)
        _check_declared_range(ws, limits)
        rows = _sheet_rows(ws, limits, header_row)
        title = ws.title
    finally:
        book.close()
    width = len(rows[0]) if rows else 0
    empty = {(i, j) for i, row in enumerate(rows) for j, text in enumerate(row) if text == ""}
    if empty:
        _check_no_unsaved_formula(data, title, empty, (header_row, len(rows)), width)
    if not rows or all(all(c == "" for c in r) for r in rows):
        raise IngestError(
            f"the sheet {title!r} is empty from row {header_row}: expected a header row and at least one data row.",
            line=header_row,
        )
    header, body = rows[0], rows[1:]
    lines = np.arange(header_row + 1, header_row + len(body) + 1, dtype=np.int64)
    table = pd.DataFrame(body, columns=header, dtype=object)
    blank = (table == "").all(axis=1).to_numpy() if len(table) else np.zeros(0, dtype=bool)
    table, lines = table[~blank], lines[~blank]
    if len(table) == 0:
        raise IngestError("the sheet has a header row but no data rows: nothing to load.", line=header_row)
    return _table_to_raw(table, lines, layout, "row", header_row, series_id, title)


def _pick_sheet(book: Any, sheet: str | int | None) -> Any:
    names = book.sheetnames
    if sheet is None:
        return book[names[0]]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise IngestError(f"sheet index {sheet} does not exist; the workbook has sheets {names}.")
        return book[names[sheet]]
    if sheet not in names:
        raise IngestError(f"no sheet named {sheet!r}; the workbook has sheets {names}.")
    return book[sheet]


def _check_declared_range(ws: Any, limits: UploadLimits) -> None:
    """Refuse a sheet whose declared used range (``<dimension>``) exceeds the cell cap.

    openpyxl pads every row to the declared width: one cell at ``XFD10000`` in a 5 KB
    file declares 163 million cells (3 GB read naively).
    """
    max_row, max_col = ws.max_row, ws.max_column
    if max_row is None or max_col is None:
        return  # not declared: rows are read unpadded and counted as they come
    from openpyxl.utils import get_column_letter

    declared = f"A1:{get_column_letter(max_col)}{max_row}"
    limits.check("max_upload_cells", max_row * max_col, f"sheet {ws.title!r} declares the used range {declared}:")


def _sheet_rows(ws: Any, limits: UploadLimits, header_row: int = 1) -> list[list[str]]:
    """The sheet's rows from ``header_row`` on as text, as wide as the header row (nothing right of it is read)."""
    first = next(ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True), ())
    header = [_xlsx_text(v) for v in first]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    limits.check("max_upload_columns", width, "the header row has", line=header_row)
    if width == 0:
        if any(v is not None for row in ws.iter_rows(min_row=header_row + 1, values_only=True) for v in row):
            raise IngestError(
                f"row {header_row} is empty: the header row must hold the column names (choose it with header_row).",
                line=header_row,
            )
        return []
    rows: list[list[str]] = []
    for row in ws.iter_rows(min_row=header_row, max_col=width, values_only=True):
        if (len(rows) + 1) * width > limits.max_cells:
            limits.check("max_upload_cells", (len(rows) + 1) * width, "the sheet has at least")
        cells = [_xlsx_text(v) for v in row]
        rows.append(cells + [""] * (width - len(cells)))
    return rows


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    return str(value.isoformat()) if hasattr(value, "isoformat") else _cell_text(value)


def _check_no_unsaved_formula(
    data: bytes, title: str, empty: set[tuple[int, int]], span: tuple[int, int], width: int
) -> None:
    """Refuse a formula cell whose result the file does not hold.

    The values are read with ``data_only=True``: the results Excel saved with each formula.
    A file written by a program that does not compute formulas (openpyxl, many exporters)
    holds none, and the cell would read as a gap. Only cells that read empty are looked at
    again, with their formulas, within the range that was read (``span`` = first row and
    number of rows, by ``width``).

    Raises
    ------
    IngestError
        Naming the cell and its formula.
    """
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        first, n_rows = span
        for i, row in enumerate(book[title].iter_rows(min_row=first, max_row=first + n_rows - 1, max_col=width)):
            for j, cell in enumerate(row):
                formula = getattr(cell, "value", None)
                if (i, j) in empty and getattr(cell, "data_type", None) == "f":
                    text = getattr(formula, "text", formula)  # ArrayFormula keeps its text apart
                    raise IngestError(
                        f"cell {cell.coordinate} of sheet {title!r} holds the formula {text!r} but no saved "
                        "result; open and save the file in a spreadsheet program (which stores results) or "
                        "replace the formula by its value.",
                        line=cell.row,
                        column=cell.column,
                    )
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _read_json(text: str, series_id: str | None, limits: UploadLimits) -> tuple[_Raw, dict[str, dict[str, Any]]]:
    items = _json_items(text)
    uid: list[Any] = []
    ds: list[Any] = []
    y: list[Any] = []
    loc: list[int] = []
    meta: dict[str, dict[str, Any]] = {}
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise IngestError(f"record {n}: expected an object, got {type(item).__name__}.")
        sid = item.get("unique_id", item.get("series_id", series_id))
        if "data" in item:
            meta[str(sid)] = {k: item[k] for k in (*_META_COLUMNS, "tags") if k in item}
            points = item["data"]
        else:
            missing = [k for k in ("ds", "y") if k not in item]
            if missing or sid is None:
                raise IngestError(
                    f'record {n}: missing {", ".join(missing) or "unique_id"}; expected {{"unique_id", "ds", "y"}}.'
                )
            points = [item]
        for m, point in enumerate(points, start=1):
            if not isinstance(point, dict) or "ds" not in point:
                raise IngestError(f"record {n}, point {m}: expected an object with 'ds' and 'y'.")
            if len(uid) * 3 >= limits.max_cells:
                limits.check("max_upload_cells", (len(uid) + 1) * 3, "the JSON document has at least")
            uid.append(sid)
            ds.append(point.get("ds"))
            y.append(point.get("y"))
            loc.append(n)
    if not uid:
        raise IngestError("the file is empty: no observations in the JSON document.")
    return _json_raw(uid, ds, y, loc), meta


def _json_items(text: str) -> list[Any]:
    """The list of records of a JSON document (a list, or ``{"series": [...]}``)."""
    if not text.strip():
        raise IngestError("the file is empty: expected JSON records.", line=1)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}.", line=exc.lineno, column=exc.colno
        ) from exc
    except RecursionError:
        # The decoder recurses once per nesting level; records need three levels at most.
        raise IngestError(
            'the JSON document is nested too deeply; expected a list of {"unique_id", "ds", "y"} records.'
        ) from None
    except ValueError as exc:
        # Python refuses to convert integers of more than 4300 digits (a guard against
        # quadratic-time conversion); no trade figure is that long.
        raise IngestError(f"the JSON document holds a number too long to read: {exc}.") from None
    items = doc.get("series") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise IngestError('expected a JSON list of {"unique_id", "ds", "y"} records or {"series": [...]}.')
    if not items:
        raise IngestError("the file is empty: the JSON list has no records.")
    return items


def _json_raw(uid: list[Any], ds: list[Any], y: list[Any], loc: list[int]) -> _Raw:
    count = len(uid)
    return _Raw(
        uid=np.array(["" if u is None else str(u) for u in uid], dtype=object),
        ds=np.array(["" if d is None else str(d) for d in ds], dtype=object),
        y=np.array(["" if v is None else str(v) for v in y], dtype=object),
        loc=np.asarray(loc, dtype=np.int64),
        uid_col=np.zeros(count, dtype=np.int64),
        uid_loc=np.asarray(loc, dtype=np.int64),
        ds_col=0,
        y_col=np.zeros(count, dtype=np.int64),
        y_name=np.full(count, "y", dtype=object),
        ds_name="ds",
        uid_name="unique_id",
        loc_word="record",
    )


# -- validation: the forecasting series parser, with file coordinates ----------------------


@dataclass(frozen=True)
class _FileLocator:
    """Names an observation of a :class:`_Raw` as an editor shows it: line (row, record) and column."""

    raw: _Raw

    def line(self, row: int, field: str) -> int:
        if field == "ds" and self.raw.ds_loc is not None:
            return int(self.raw.ds_loc[row])
        return int(self.raw.uid_loc[row] if field == "unique_id" else self.raw.loc[row])

    def column(self, row: int, field: str) -> tuple[int, str]:
        raw = self.raw
        if field == "unique_id":
            return int(raw.uid_col[row]), raw.uid_name
        if field == "y":
            return int(raw.y_col[row]), str(raw.y_name[row])
        if raw.ds_cols is not None and raw.ds_names is not None:
            return int(raw.ds_cols[row]), str(raw.ds_names[row])
        return raw.ds_col, raw.ds_name

    def where(self, row: int, field: str) -> str:
        col, name = self.column(row, field)
        if field == "y" or (field == "ds" and self.raw.ds_loc is None):
            return _where(self.raw, row, col, name)
        line = f"{self.raw.loc_word} {self.line(row, field)}"
        return f"{line}, column {col} ({name})" if col else line

    def at(self, row: int) -> str:
        return f"{self.raw.loc_word} {int(self.raw.loc[row])}"

    def error(self, exc: InvalidSeriesError) -> IngestError:
        """The parser's error as an :class:`IngestError` with line and column, keeping its code."""
        row, field = exc.row, _field_of(exc)
        line: int | None = None
        column: int | None = None
        column_name: str | None = None
        if row is not None:
            line = self.line(row, field) if self.raw.loc_word != "record" else None
            if exc.location != self.at(row):  # a cell, not a whole row
                col, column_name = self.column(row, field)
                column = col or None
        return IngestError(str(exc), line=line, column=column, column_name=column_name, value=exc.value, code=exc.code)


def _field_of(exc: InvalidSeriesError) -> str:
    """Which column an error of the parser is about."""
    if isinstance(exc, InvalidSeriesIdError):
        return "unique_id"
    if isinstance(exc, NonNumericValueError | NonFiniteValueError | ShareOutOfRangeError | NegativeValueError):
        return "y"
    return "ds"


def _declared(raw: _Raw, json_meta: Mapping[str, Mapping[str, Any]], key: str) -> np.ndarray | None:
    """Per-row declared ``frequency``/``kind`` (a column, or the JSON series object), else None."""
    if json_meta:
        if not any(key in m for m in json_meta.values()):
            return None
        codes, uniques = pd.factorize(pd.Series(raw.uid, dtype=object), use_na_sentinel=False)
        per_id = np.array([str(json_meta.get(str(u).strip(), {}).get(key) or "") for u in uniques], dtype=object)
        return np.asarray(per_id[codes], dtype=object)
    return raw.extra.get(key)


def _first_and_constant(codes: np.ndarray, values: np.ndarray, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """For each series code: the first value, and whether all its values are equal."""
    first_idx = np.full(n_series, -1, dtype=np.int64)
    order = np.arange(len(codes))[::-1]
    first_idx[codes[order]] = order
    first = values[first_idx]
    constant = np.ones(n_series, dtype=bool)
    differs = values != first[codes]
    constant[np.unique(codes[differs])] = False
    return first, constant


def _validate(
    raw: _Raw,
    *,
    frequency: str | None,
    kind: str | None,
    allow_negative: bool,
    json_meta: Mapping[str, Mapping[str, Any]],
    unit: str | None,
    tags: Mapping[str, str] | None,
    opts: _TextOptions,
) -> IngestResult:
    """Run the series parser over the rows; its errors come back with line and column."""
    locator = _FileLocator(raw)
    scale, header_unit = _scale(raw, opts.scale, kind, opts.header_row)
    try:
        parsed = parse_long(
            raw.uid,
            raw.ds,
            raw.y,
            frequency=frequency,
            kind=kind,
            frequency_rows=_declared(raw, json_meta, "frequency"),
            kind_rows=_declared(raw, json_meta, "kind"),
            allow_negative=allow_negative,
            locator=locator,
            number_format=opts.number_format(),
        )
    except InvalidSeriesIdError as exc:
        error = locator.error(exc)
        if raw.uid_name != "header":
            raise error from None
        # A wide file's headers are its series ids; a descriptive header needs a given id.
        raise IngestError(
            f"{error.message} The column header is read as the series id: pass series_id (the form field, "
            "or --series-id) to name a one-series file, or rename the column.",
            line=error.line,
            column=error.column,
            column_name=error.column_name,
            value=error.value,
            code=error.code,
        ) from None
    except InvalidSeriesError as exc:
        raise locator.error(exc) from None
    _check_unit_scale(unit, scale, raw)
    if scale != "units":
        parsed.y = parsed.y * SCALES[scale]
    metas = _build_metas(raw, json_meta, parsed, unit, tags)
    if scale != "units" and unit is None:
        metas = {sid: _unscaled_unit(m, header_unit) for sid, m in metas.items()}
    # Series order: by id in the frame; metas keep the order of first appearance.
    return IngestResult(frame=parsed.frame().reset_index(drop=True), metas=metas, scale=scale)


@dataclass
class _TextOptions:
    """How the cells of a file are written: header row, field separator, decimal mark, scale."""

    header_row: int = 1
    delimiter: str | None = None
    decimal: str | None = None
    scale: str | None = None
    fmt: str = "csv"
    sheet: str | int | None = None

    def check(self) -> None:
        if self.delimiter is not None and self.delimiter not in DELIMITERS:
            names = ", ".join(f"{d!r} ({n})" for d, n in DELIMITERS.items())
            raise IngestError(f"unknown delimiter {self.delimiter!r}; expected one of {names}.")
        if self.decimal is not None and self.decimal not in (".", ","):
            raise IngestError(f"unknown decimal mark {self.decimal!r}; expected '.' or ','.")
        if self.scale is not None and self.scale not in SCALES:
            raise IngestError(f"unknown scale {self.scale!r}; expected one of {', '.join(SCALES)}.")

    def number_format(self) -> NumberFormat:
        """JSON: plain numbers; CSV: ',' decimals by default after ';' separators, else '.'."""
        if self.fmt == "json":
            return NumberFormat()
        if self.fmt == "xlsx":  # numbers are typed; text cells may group thousands with ','
            return NumberFormat(".", ",")
        decimal = self.decimal or ("," if self.delimiter == ";" else ".")
        # Thousands separators must group digits by three (NumberFormat), so "3,695,000"
        # is read but "3,69" is refused rather than misread.
        return NumberFormat(decimal, "," if decimal == "." else ". \u00a0")


def _scale(raw: _Raw, declared: str | None, kind: str | None, header_line: int) -> tuple[str, str | None]:
    """The scale of the values: declared, or named by the value column's header; and its currency."""
    headers = set(raw.y_name.tolist()) if raw.loc_word != "record" and raw.ds_loc is None else set()
    header = str(headers.pop()) if len(headers) == 1 else ""
    from_header = scale_in_header(header) if header else None
    if declared is not None and from_header is not None and declared != from_header:
        line, column = header_line, int(raw.y_col[0]) if len(raw.y_col) else None
        raise IngestError(
            f"{raw.loc_word} {line}, column {column} (header): the value column {header!r} says {from_header} "
            f"but scale={declared!r} was declared; drop one of them (or rename the column).",
            line=line,
            column=column,
            column_name=header,
            value=header,
        )
    scale = declared or from_header or "units"
    if scale != "units" and kind == "share":
        raise IngestError(f"scale={scale!r} does not apply to shares (fractions in [0, 1]).")
    return scale, currency_in_header(header) if header else None


def _check_unit_scale(unit: str | None, scale: str, raw: _Raw) -> None:
    """Refuse a unit that names a scale when the values are scaled to units on load.

    Values written in millions are stored in units, so a unit such as ``USD bn`` (or
    ``USD millions``) would mislabel every stored value by a factor of 1e3 to 1e9.
    """
    named = scale_in_header(unit) if unit else None
    if scale == "units" or named is None or unit is None:
        return
    from_header = bool(raw.y_name.size) and scale_in_header(str(raw.y_name[0])) is not None
    source, fix = ("the value header", "correct the header") if from_header else ("scale", "drop scale")
    raise IngestError(
        f"unit={unit!r} names {named} but {source} says the values are in {scale} (scale={scale!r}); "
        f"values are stored in units, so give the unit without a scale word "
        f"(unit={currency_in_header(unit) or 'USD'!r}), or {fix} if the values are in {named}.",
        value=unit,
        code="unit_scale_mismatch",
    )


def _unscaled_unit(meta: SeriesMeta, header_unit: str | None) -> SeriesMeta:
    """Values were brought to units: the unit keeps its currency, not its scale word."""
    unit = header_unit or currency_in_header(meta.unit) or ("" if scale_in_header(meta.unit) else meta.unit)
    return SeriesMeta(meta.series_id, meta.name, meta.frequency, unit, meta.kind, dict(meta.tags))


def _build_metas(
    raw: _Raw,
    json_meta: Mapping[str, Mapping[str, Any]],
    parsed: LongObservations,
    unit: str | None,
    tags: Mapping[str, str] | None,
) -> dict[str, SeriesMeta]:
    codes, ids, freq_of, kind_of = parsed.codes, parsed.ids, parsed.freq_of, parsed.kind_of
    n_series = len(ids)
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key in ("name", "unit", *TAG_COLUMNS):
        if key in raw.extra:
            values = pd.Series(raw.extra[key], dtype="string").str.strip().fillna("").to_numpy(dtype=object)
            columns[key] = _first_and_constant(codes, values, n_series)
    metas: dict[str, SeriesMeta] = {}
    for s in range(n_series):
        sid = str(ids[s])
        jm = json_meta.get(sid, {})
        series_tags = {k: str(v) for k, v in (jm.get("tags") or {}).items()}
        for key in TAG_COLUMNS:
            if key in columns:
                first, constant = columns[key]
                if constant[s] and first[s]:
                    series_tags[key] = str(first[s])
        series_tags.update(tags or {})
        name = str(jm.get("name") or "")
        if not name and "name" in columns:
            name = str(columns["name"][0][s])
        series_unit = unit or str(jm.get("unit") or "")
        if not series_unit and "unit" in columns:
            series_unit = str(columns["unit"][0][s])
        metas[sid] = SeriesMeta(
            series_id=sid,
            name=name,
            frequency=str(freq_of[s]),
            unit=series_unit,
            kind=str(kind_of[s]),
            tags=series_tags,
        )
    return metas


def _name_from_header(raw: _Raw, series_id: str | None) -> str | None:
    """A one-series file's descriptive value header, without its unit, as the series' name.

    ``Exports to China (USD millions)`` names the series ``Exports to China``; a plain
    ``Value (USD millions)`` names nothing.
    """
    if series_id is None or raw.uid_name != "series_id" or not raw.y_name.size:
        return None
    text = re.sub(r"\s*[(\[].*$", "", str(raw.y_name[0])).strip()
    return None if not text or text.lower() in _ALIASES["y"] else text


def _format_of(data: bytes, source: str, format: str | None, opts: _TextOptions) -> str:
    """The upload's format (given or sniffed), checked against the options that depend on it."""
    fmt = (format or _sniff_format(data, source)).lower()
    if fmt == "excel":
        fmt = "xlsx"
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}.")
    if not data.strip():
        raise IngestError("the file is empty (0 bytes of data).", line=1)
    if fmt != "csv" and (opts.delimiter is not None or opts.decimal is not None):
        raise IngestError(f"delimiter and decimal apply to CSV files; this upload is {fmt}.")
    if fmt != "xlsx" and opts.sheet is not None:
        raise IngestError(f"sheet applies to Excel files; this upload is {fmt}.")
    if fmt == "json" and opts.header_row != 1:
        raise IngestError("header_row applies to CSV and Excel files; this upload is json.")
    return fmt


def load_series(
    path_or_buffer: Any,
    *,
    format: str | None = None,
    frequency: str | None = None,
    kind: str | None = None,
    layout: str = "auto",
    sheet: str | int | None = None,
    series_id: str | None = None,
    name: str | None = None,
    unit: str | None = None,
    tags: Mapping[str, str] | None = None,
    allow_negative: bool = False,
    max_bytes: int | None = None,
    limits: UploadLimits | None = None,
    header_row: int = 1,
    delimiter: str | None = None,
    decimal: str | None = None,
    scale: str | None = None,
) -> IngestResult:
    """Read and validate a CSV, JSON or Excel file of economic series.

    Parameters
    ----------
    path_or_buffer : str, PathLike, bytes or file object
        The input. Text must be UTF-8 (a BOM is accepted).
    format : {"csv", "json", "xlsx"}, optional
        Default: from the file name, else sniffed from the content.
    frequency : {"annual", "quarterly", "monthly"}, optional
        Frequency of every series. Default: from a ``frequency`` column, else inferred
        from the period spellings (or, for dates only, from their spacing).
    kind : {"level", "share"}, optional
        Kind of every series. Default: from a ``kind`` column, else ``level``.
    layout : {"auto", "long", "wide", "comtrade", "imf", "eurostat"}
        Table layout of CSV/Excel input; ``auto`` recognises the publication layouts of UN
        Comtrade, the IMF and Eurostat from their headers (see :mod:`data.publications`),
        else picks long when ``ds`` and ``y`` columns exist, else wide.
    sheet : str or int, optional
        Excel sheet name or 0-based index (default: the first).
    series_id : str, optional
        Id of the single series of a file with no ``unique_id`` column: a long file, or a
        period column and one value column whose header describes the values
        (``Period;Value (USD millions)``, ``Exports to China (USD millions)``) instead of
        being an id. A file with several value columns and ``series_id`` is an error.
    name : str, optional
        Name (title) of every series, e.g. ``"Exports to China"``.
    unit : str, optional
        Unit of every series. A unit naming a scale (``USD bn``) while the values are scaled
        to units (``scale`` given or read from the header) is an error naming both.
    tags : mapping, optional
        Tags added to every series.
    allow_negative : bool
        Accept negative ``level`` values (e.g. trade balances). Default False: trade
        values are non-negative, so a negative one is an error.
    max_bytes : int, optional
        Size limit in bytes (default :data:`DEFAULT_MAX_UPLOAD_BYTES`, 50 MiB; the service passes
        its ``TRADECAST_MAX_UPLOAD_BYTES``).
    limits : UploadLimits, optional
        Caps on columns, series and cells (default :class:`UploadLimits()`; the service
        passes its ``TRADECAST_MAX_UPLOAD_COLUMNS``, ``_SERIES`` and ``_CELLS``). Checked
        before the table is built: the header first, then the size of the table.
    header_row : int
        The line (CSV) or row (Excel) of the column names, 1-based; lines above it (titles,
        notes) are skipped. Default 1.
    delimiter : {",", ";", "\\t"}, optional
        CSV field separator. Default: the one the header line uses most.
    decimal : {".", ","}, optional
        Decimal mark of CSV values. Default: ``,`` in a ``;``-separated file, else ``.``.
        Thousands separators are read when they group digits by three: ``,`` with ``.``
        decimals (``"3,695,000,000"``), ``.`` or a space with ``,`` decimals (``1.234,5``).
    scale : {"units", "thousands", "millions", "billions"}, optional
        The scale the values are written in; they are stored in units (times 1e3, 1e6 or
        1e9). Default: named by the value column's header (``Value (USD millions)``,
        ``value_musd``, ``USD bn``), else units. A declared scale that contradicts the
        header is an error.

    Returns
    -------
    IngestResult
        The long frame and a :class:`SeriesMeta` per series. Gaps stay NaN.

    Raises
    ------
    IngestError
        With line, column and value: file too large, empty, not UTF-8, unparseable,
        missing columns, invalid series ids, non-numeric values, unreadable periods,
        mixed or unknown frequencies, duplicate periods, shares outside [0, 1], negative
        trade values. :class:`~data.exceptions.UploadLimitError` (a subclass) when the
        upload exceeds ``limits``.
    """
    limit = max_bytes if max_bytes is not None else DEFAULT_MAX_UPLOAD_BYTES
    caps = limits or UploadLimits()
    opts = _TextOptions(header_row=header_row, delimiter=delimiter, decimal=decimal, scale=scale, sheet=sheet)
    opts.check()
    data, source = read_bytes(path_or_buffer, limit)
    if layout not in LAYOUTS:
        raise IngestError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}.")
    fmt = opts.fmt = _format_of(data, source, format, opts)
    json_meta: dict[str, dict[str, Any]] = {}
    if fmt == "xlsx":
        if not data.startswith(_XLSX_MAGIC):
            raise IngestError("the file is not an .xlsx workbook (no ZIP signature); save it as .xlsx or CSV.")
        raw = _read_xlsx(data, layout, sheet, series_id, caps, header_row)
    elif fmt == "json":
        raw, json_meta = _read_json(_decode(data), series_id, caps)
    else:
        raw = _read_csv(_decode(data), layout, series_id, caps, opts)
    caps.check("max_upload_series", len(pd.unique(raw.uid)), "the file has")
    result = _validate(
        raw,
        frequency=frequency,
        kind=kind,
        allow_negative=allow_negative,
        json_meta=json_meta,
        unit=unit,
        tags=tags,
        opts=opts,
    )
    if name is not None:
        result.metas = {sid: replace(m, name=name) for sid, m in result.metas.items()}
    elif (header_name := _name_from_header(raw, series_id)) is not None:
        result.metas = {
            sid: replace(m, name=header_name) if m.name in ("", sid) else m for sid, m in result.metas.items()
        }
    result.source = source
    logger.info(
        "validated %s: %d series, %d observations", source, len(result.metas), int(result.frame["y"].notna().sum())
    )
    return result
