"""Caps on one upload's columns, series and cells: refused early, in bounded time and memory."""

from __future__ import annotations

import io
import json
import re
import time
import tracemalloc
import zipfile

import pytest

from data import IngestError, UploadLimitError, UploadLimits, load_series


def _wide_csv(n_series: int, n_rows: int = 3) -> bytes:
    header = "ds," + ",".join(f"s{i}" for i in range(n_series))
    rows = [f"{2000 + r}," + ",".join(str(r + i) for i in range(n_series)) for r in range(n_rows)]
    return ("\n".join([header, *rows]) + "\n").encode()


def test_csv_with_80000_empty_header_columns_is_refused_at_once() -> None:
    data = b"ds,a" + b"," * 80_000 + b"\n2000,1\n"
    started = time.perf_counter()
    with pytest.raises(UploadLimitError, match="80,002 columns") as info:
        load_series(data, format="csv")
    assert time.perf_counter() - started < 1.0
    assert info.value.details() == {
        "limit": "max_upload_columns",
        "setting": "TRADECAST_MAX_UPLOAD_COLUMNS",
        "maximum": 1_000,
        "found": 80_002,
        "line": 1,
    }
    assert info.value.code == "upload_too_large" and isinstance(info.value, IngestError)


def test_wide_csv_with_more_series_than_the_cap_is_refused() -> None:
    limits = UploadLimits(max_columns=10_000, max_series=50)
    with pytest.raises(UploadLimitError, match="the file has 60 series; an upload may hold at most 50 series"):
        load_series(_wide_csv(60), format="csv", frequency="annual", limits=limits)
    assert load_series(_wide_csv(50), format="csv", frequency="annual", limits=limits).n_series == 50


def test_long_csv_with_more_series_than_the_cap_is_refused() -> None:
    lines = ["unique_id,ds,y", *(f"u{i},2000,1" for i in range(30))]
    with pytest.raises(UploadLimitError, match="TRADECAST_MAX_UPLOAD_SERIES"):
        load_series("\n".join(lines).encode(), format="csv", limits=UploadLimits(max_series=29))


def test_csv_with_more_cells_than_the_cap_is_refused_before_parsing() -> None:
    lines = ["unique_id,ds,y", *(f"u,{1000 + i},1" for i in range(400))]
    with pytest.raises(UploadLimitError) as info:
        load_series("\n".join(lines).encode(), format="csv", limits=UploadLimits(max_cells=1_000))
    assert info.value.limit == "max_upload_cells" and info.value.found == 1_200


def test_json_with_more_observations_than_the_cell_cap_is_refused() -> None:
    doc = {"series": [{"unique_id": "a", "data": [{"ds": str(1000 + i), "y": 1} for i in range(500)]}]}
    with pytest.raises(UploadLimitError, match="TRADECAST_MAX_UPLOAD_CELLS"):
        load_series(json.dumps(doc).encode(), format="json", limits=UploadLimits(max_cells=900))


def _xlsx_with_far_cell(*, declared: bool) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["ds", "a"])
    for year in range(2000, 2010):
        ws.append([str(year), float(year - 1990)])
    ws["XFD10000"] = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue() if declared else _without_dimension(buffer.getvalue())


def _without_dimension(data: bytes) -> bytes:
    """The same workbook without its <dimension> elements: nothing declares the used range."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = re.sub(rb"<dimension [^>]*/>", b"", content)
            dst.writestr(item, content)
    return out.getvalue()


def _peak_mib(fn: object) -> tuple[object, float]:
    tracemalloc.start()
    try:
        try:
            outcome: object = fn()  # type: ignore[operator]
        except IngestError as exc:
            outcome = exc
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return outcome, peak / 2**20


def test_small_xlsx_declaring_a_huge_used_range_is_refused_naming_it() -> None:
    data = _xlsx_with_far_cell(declared=True)
    assert len(data) < 10_000
    outcome, peak = _peak_mib(lambda: load_series(data, format="xlsx", frequency="annual"))
    assert isinstance(outcome, UploadLimitError), outcome
    assert "A1:XFD10000" in str(outcome) and outcome.limit == "max_upload_cells"
    assert outcome.found == 16_384 * 10_000
    assert peak < 100


def test_xlsx_with_a_far_cell_and_no_declared_range_is_read_in_bounded_memory() -> None:
    data = _xlsx_with_far_cell(declared=False)
    outcome, peak = _peak_mib(lambda: load_series(data, format="xlsx", frequency="annual"))
    assert peak < 100
    # Only the header's two columns are read: the stray cell is right of the table.
    assert not isinstance(outcome, Exception), outcome
    assert outcome.n_series == 1 and outcome.frame["y"].notna().sum() == 10  # type: ignore[attr-defined]


def test_xlsx_with_a_header_wider_than_the_cap_is_refused() -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["ds", *(f"s{i}" for i in range(30))])
    book.active.append(["2000", *range(30)])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(UploadLimitError, match="the header row has 31 columns"):
        load_series(buffer.getvalue(), format="xlsx", limits=UploadLimits(max_columns=20))


def _long_sheet(n_rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["ds", "a"])
    for year in range(1000, 1000 + n_rows):
        book.active.append([str(year), 1.0])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_declared_range_above_the_cell_cap_is_refused() -> None:
    with pytest.raises(UploadLimitError, match="declares the used range A1:B201"):
        load_series(_long_sheet(200), format="xlsx", limits=UploadLimits(max_cells=300))


def test_xlsx_cell_cap_counts_rows_as_read_when_no_range_is_declared() -> None:
    with pytest.raises(UploadLimitError, match="the sheet has at least 302 cells"):
        load_series(_without_dimension(_long_sheet(200)), format="xlsx", limits=UploadLimits(max_cells=300))
