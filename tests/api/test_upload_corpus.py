"""A catalogue of bad uploads, generated here (no binary fixtures): each one must get a 4xx
with the error envelope, within a bounded time and a bounded peak of Python allocations.

The files are the abuse cases of issue 21 (the wide empty-header CSV, the one-cell-at-XFD10000
workbook, formula cells without saved results, deep-nested JSON...) plus their relatives: huge
numbers, NUL bytes, wrong encodings, corrupt and bomb-like archives.
"""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from tests.api.conftest import TestClient

# Bounds per file. The time bound holds on two busy cores under tracemalloc (which slows
# allocation-heavy code a few times); the memory bound is far below what the naive readers
# took (3 GB for the XFD10000 workbook).
MAX_SECONDS = 5.0
MAX_PEAK_BYTES = 150 * 1024 * 1024


def _xlsx(fill: Callable[[Any], None]) -> bytes:
    book = openpyxl.Workbook()
    fill(book.active)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xfd10000(ws: Any) -> None:
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = "ds", "a", "2000", 1.0
    ws["XFD10000"] = 1


def _formula(ws: Any) -> None:
    ws.append(["ds", "a"])
    ws.append(["2000", 1.0])
    ws.append(["2001", "=1+1"])  # openpyxl saves no result for a formula
    ws.append(["2002", 3.0])


def _replace_member(xlsx: bytes, member: str, payload: bytes) -> bytes:
    """The workbook with one archive member replaced (deflated, so a bomb stays small)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, payload if info.filename == member else src.read(info.filename))
    return out.getvalue()


def _rows_bomb() -> bytes:
    """~60 MB of sheet XML (one column, a million rows) in a file of a few hundred KB."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="n"><v>1</v></c></row>' for r in range(2, 1_000_002))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ds</t></is></c>'
        f"</row>{rows}</sheetData></worksheet>"
    )
    return _replace_member(_xlsx(lambda ws: ws.append(["ds"])), "xl/worksheets/sheet1.xml", sheet.encode())


def _truncated_xlsx() -> bytes:
    data = _xlsx(_formula)
    return data[: len(data) // 2]


def _deep_json(depth: int = 100_000) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _csv(text: str) -> bytes:
    return text.encode()


# name -> (filename, bytes factory, form fields)
CORPUS: dict[str, tuple[str, Callable[[], bytes], dict[str, str]]] = {
    "wide_empty_header_80k": ("wide.csv", lambda: b"ds,a" + b"," * 80_000 + b"\n2000,1\n", {"frequency": "annual"}),
    "wide_empty_header_1_5mb": ("wide.csv", lambda: b"ds,a" + b"," * 1_500_000 + b"\n2000,1\n", {}),
    "wide_named_100k_series": (
        "wide.csv",
        lambda: ("ds," + ",".join(f"s{i}" for i in range(100_000)) + "\n2000" + ",1" * 100_000 + "\n").encode(),
        {"frequency": "annual"},
    ),
    "long_20k_series": (
        "long.csv",
        lambda: ("unique_id,ds,y\n" + "".join(f"s{i},2000,1\n" for i in range(20_000))).encode(),
        {"frequency": "annual"},
    ),
    "xlsx_cell_at_xfd10000": ("xfd.xlsx", lambda: _xlsx(_xfd10000), {"frequency": "annual"}),
    "xlsx_formula_without_result": ("formula.xlsx", lambda: _xlsx(_formula), {"frequency": "annual"}),
    "xlsx_million_rows_bomb": ("bomb.xlsx", _rows_bomb, {"frequency": "annual"}),
    "xlsx_truncated_zip": ("cut.xlsx", _truncated_xlsx, {"frequency": "annual"}),
    "xlsx_not_a_zip": ("fake.xlsx", lambda: b"ds,a\n2000,1\n", {"frequency": "annual"}),
    "json_nested_100k_deep": ("deep.json", _deep_json, {"frequency": "annual"}),
    "json_nested_in_records": (
        "deep.json",
        lambda: b'[{"ds": "2000", "y": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]",
        {"frequency": "annual"},
    ),
    "json_huge_number": (
        "big.json",
        lambda: json.dumps([{"unique_id": "a", "ds": "2000", "y": 1}]).replace("1}", "9" * 5_000 + "}").encode(),
        {"frequency": "annual"},
    ),
    "csv_overflowing_number": ("big.csv", lambda: _csv("ds,y\n2000,1e400\n2001,2\n2002,3\n"), {"frequency": "annual"}),
    "csv_5000_digit_number": ("big.csv", lambda: _csv(f"ds,y\n2000,{'9' * 5_000}\n2001,2\n"), {"frequency": "annual"}),
    "csv_nul_bytes": ("nul.csv", lambda: b"ds,y\n2000,1\x00\n2001,\x002\n", {"frequency": "annual"}),
    "csv_binary_garbage": ("junk.csv", lambda: bytes(range(256)) * 64, {"frequency": "annual"}),
    "csv_utf16": ("u16.csv", lambda: "ds,y\n2000,1\n2001,2\n".encode("utf-16"), {"frequency": "annual"}),
    "csv_latin1_header": ("l1.csv", lambda: "ds,r\u00e9el\n2000,1\n".encode("latin-1"), {"frequency": "annual"}),
    "csv_empty": ("empty.csv", lambda: b"", {"frequency": "annual"}),
    "csv_header_only": ("head.csv", lambda: b"ds,y\n", {"frequency": "annual"}),
    "csv_extreme_year": ("far.csv", lambda: _csv("ds,y\n99999,1\n100000,2\n"), {"frequency": "annual"}),
    "csv_monthly_label_in_annual": ("mix.csv", lambda: _csv("ds,y\n1995-03,1\n1996,2\n"), {"frequency": "annual"}),
    # Issue 35: a narrow header with one very wide data row (pandas turned the surplus into
    # index levels: 14-31 s of CPU and hundreds of MB before the 422).
    "wide_data_row_80k": ("row.csv", lambda: b"ds,y\n2020,1" + b"," * 79_998 + b"\n2021,2\n", {"series_id": "w"}),
    "wide_data_row_160k": ("row.csv", lambda: b"ds,y\n2020,1" + b"," * 159_998 + b"\n2021,2\n", {"series_id": "w"}),
    "wide_quoted_data_row": ("row.csv", lambda: b"ds,y\n2020,1" + b',""' * 80_000 + b"\n", {"series_id": "w"}),
    "wide_semicolon_data_row": ("row.csv", lambda: b"ds;y\n2020;1" + b";" * 80_000 + b"\n", {"series_id": "w"}),
    "wide_row_after_10k_lines": (
        "row.csv",
        lambda: ("ds,y\n" + "".join(f"{1000 + i},1\n" for i in range(10_000))).encode() + b"3000,1" + b"," * 80_000,
        {"series_id": "w"},
    ),
    "wide_row_spanning_quoted_lines": (
        "row.csv",
        lambda: b'ds,y\n2020,"1' + b'\n",' * 40_000 + b"\n",
        {"series_id": "w"},
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_upload_gets_4xx_envelope_in_bounded_time_and_memory(client: TestClient, name: str) -> None:
    filename, make, fields = CORPUS[name]
    data = make()
    tracemalloc.start()
    try:
        started = time.perf_counter()
        response = client.post("/v1/series", files={"file": (filename, data)}, data=fields)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 400 <= response.status_code < 500, f"{name}: {response.status_code} {response.text[:300]}"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"], error
    assert elapsed < MAX_SECONDS, f"{name}: {elapsed:.1f} s"
    assert peak < MAX_PEAK_BYTES, f"{name}: peak {peak / 2**20:.0f} MiB"
    # Nothing half-stored: the series list is still empty.
    assert client.get("/v1/series").json()["count"] == 0


def test_health_and_listing_still_answer_after_the_corpus(client: TestClient) -> None:
    for filename, make, fields in CORPUS.values():
        client.post("/v1/series", files={"file": (filename, make())}, data=fields)
    assert client.get("/health").status_code == 200
    assert client.get("/v1/series").status_code == 200
