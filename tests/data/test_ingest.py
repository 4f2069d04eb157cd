"""Ingest: formats and layouts, and one bad-input test per validation error, asserting the message."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from data import IngestError, load_series


def csv(text: str) -> bytes:
    return text.encode("utf-8")


def xlsx(rows, sheet="Sheet1", extra_sheet=None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    if extra_sheet:
        other = book.create_sheet(extra_sheet[0])
        for row in extra_sheet[1]:
            other.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# -- accepted inputs ----------------------------------------------------------------------------


def test_long_csv_with_gaps_and_several_frequencies():
    result = load_series(csv("unique_id,ds,y\na,2023-01,1\na,2023-02,\na,2023-03,3.5\nb,2023Q1,5\nb,2023-Q2,6\n"))
    assert list(result.frame.columns) == ["unique_id", "ds", "y"]
    assert result.metas["a"].frequency == "monthly" and result.metas["b"].frequency == "quarterly"
    a = result.frame[result.frame.unique_id == "a"]
    assert [str(p) for p in a.ds] == ["2023-01", "2023-02", "2023-03"]
    assert np.isnan(a.y.iloc[1]) and a.y.iloc[2] == 3.5


@pytest.mark.parametrize(
    ("text", "expected", "freq"),
    [
        ("2023", "2023", "annual"),
        ("2023-Q1", "2023Q1", "quarterly"),
        ("2023Q1", "2023Q1", "quarterly"),
        ("2023-01", "2023-01", "monthly"),
    ],
)
def test_period_spellings(text, expected, freq):
    result = load_series(csv(f"unique_id,ds,y\ns,{text},1\n"))
    assert str(result.frame.ds.iloc[0]) == expected and result.metas["s"].frequency == freq


def test_dates_map_to_the_period_containing_them():
    monthly = load_series(csv("unique_id,ds,y\ns,2023-01-31,1\ns,2023-02-28,2\ns,2023-03-15,3\n"))
    assert monthly.metas["s"].frequency == "monthly"
    assert [str(p) for p in monthly.frame.ds] == ["2023-01", "2023-02", "2023-03"]
    quarterly = load_series(csv("unique_id,ds,y\ns,2023-03-31,1\ns,2023-06-30,2\n"), frequency="quarterly")
    assert [str(p) for p in quarterly.frame.ds] == ["2023Q1", "2023Q2"]
    annual = load_series(csv("unique_id,ds,y\ns,2021-12-31,1\ns,2022-12-31,2\ns,2023-12-31,3\n"))
    assert annual.metas["s"].frequency == "annual" and str(annual.frame.ds.iloc[0]) == "2021"


def test_wide_csv_first_column_is_the_period():
    result = load_series(csv("period,cn_ru_exports,cn_ru_imports\n2020,1,2\n2021,,3\n2022,4,\n"))
    assert set(result.metas) == {"cn_ru_exports", "cn_ru_imports"}
    exports = result.frame[result.frame.unique_id == "cn_ru_exports"].y.tolist()
    assert exports[0] == 1 and np.isnan(exports[1]) and exports[2] == 4


def test_trailing_commas_are_ignored():
    result = load_series(csv("period,a,b,\n2020,1,2,\n2021,3,4,\n"))
    assert set(result.metas) == {"a", "b"}


def test_utf8_bom_is_accepted():
    result = load_series(b"\xef\xbb\xbfunique_id,ds,y\ns,2023,1\n")
    assert list(result.metas) == ["s"]


def test_meta_and_tag_columns_become_series_metadata():
    text = (
        "unique_id,ds,y,name,unit,kind,flow,source\n"
        "s,2023-01,0.5,Yuan share,fraction,share,export,CBR FMRR\n"
        "s,2023-02,0.6,Yuan share,fraction,share,export,CBR FSR\n"
    )
    meta = load_series(csv(text)).metas["s"]
    assert (meta.name, meta.unit, meta.kind) == ("Yuan share", "fraction", "share")
    assert meta.tags == {"flow": "export"}  # 'source' differs by row, so it is not a series tag


def test_json_records_and_series_objects():
    records = [{"unique_id": "a", "ds": "2023", "y": 1}, {"unique_id": "a", "ds": "2024", "y": None}]
    result = load_series(json.dumps(records).encode(), format="json")
    assert result.frame.y.iloc[0] == 1 and np.isnan(result.frame.y.iloc[1])
    doc = {
        "series": [
            {
                "unique_id": "s",
                "kind": "share",
                "unit": "fraction",
                "tags": {"currency": "CNY"},
                "data": [{"ds": "2023-01", "y": 0.5}, {"ds": "2023-03", "y": 0.7}],
            }
        ]
    }
    meta = load_series(io.BytesIO(json.dumps(doc).encode()), format="json").metas["s"]
    assert (meta.kind, meta.unit, meta.tags, meta.frequency) == ("share", "fraction", {"currency": "CNY"}, "monthly")


def test_xlsx_long_wide_and_named_sheet():
    long_book = xlsx([["unique_id", "ds", "y"], ["s", "2023-01", 1.5], ["s", "2023-02", 2]])
    assert load_series(long_book).frame.y.tolist() == [1.5, 2.0]
    wide_book = xlsx([["period", "x"], [2020, 1], [2021, 2]], extra_sheet=("data", [["ds", "y"], ["2020", 1]]))
    result = load_series(wide_book, format="xlsx")
    assert result.metas["x"].frequency == "annual" and result.frame.y.tolist() == [1.0, 2.0]
    named = load_series(wide_book, sheet="data", series_id="one")
    assert list(named.metas) == ["one"]


def test_xlsx_unknown_sheet_names_the_sheets():
    with pytest.raises(IngestError, match=r"no sheet named 'nope'; the workbook has sheets \['Sheet1'\]"):
        load_series(xlsx([["ds", "y"], ["2020", 1]]), sheet="nope")


def test_xlsx_errors_name_the_row():
    book = xlsx([["unique_id", "ds", "y"], ["s", "2023-01", 1], ["s", "2023-02", "n/d"]])
    with pytest.raises(IngestError, match=r"^row 3, column 3 \(y\): non-numeric value 'n/d'"):
        load_series(book)


# -- one bad-input test per validation error ------------------------------------------------------


def test_duplicate_period_names_both_lines():
    text = "unique_id,ds,y\na,2023-01,1\na,2023-02,2\na,2023-01,3\n"
    with pytest.raises(IngestError) as err:
        load_series(csv(text))
    assert str(err.value) == (
        "line 4, column 2 (ds): duplicate period 2023-01 ('2023-01') for series 'a'; first given at line 2"
    )
    assert (err.value.line, err.value.column, err.value.value) == (4, 2, "2023-01")


def test_duplicate_period_in_different_spellings():
    with pytest.raises(IngestError, match=r"line 3, column 2 \(ds\): duplicate period 2023Q1 \('2023-Q1'\)"):
        load_series(csv("unique_id,ds,y\nq,2023Q1,1\nq,2023-Q1,2\n"))


def test_non_numeric_value():
    with pytest.raises(IngestError) as err:
        load_series(csv("unique_id,ds,y\na,2023-01,1\na,2023-02,1,5\n"))
    assert "line 3" in str(err.value)
    with pytest.raises(IngestError) as err:
        load_series(csv("unique_id,ds,y\na,2023-01,1\na,2023-02,abc\na,2023-03,x\n"))
    assert str(err.value).startswith("line 3, column 3 (y): non-numeric value 'abc' for series 'a'")
    assert str(err.value).endswith("(1 more rows with this problem)")
    assert (err.value.line, err.value.column, err.value.value) == (3, 3, "abc")


def test_non_numeric_value_in_wide_file_names_the_series_column():
    with pytest.raises(IngestError, match=r"^line 3, column 3 \(imp\): non-numeric value '12,5' for series 'imp'"):
        load_series(csv('period,exp,imp\n2020,1,2\n2021,3,"12,5"\n'))


def test_mixed_frequencies_within_a_series():
    with pytest.raises(IngestError) as err:
        load_series(csv("unique_id,ds,y\na,2023-01,1\na,2023,2\n"))
    assert str(err.value).startswith(
        "line 3, column 2 (ds): mixed frequencies in series 'a': '2023' is annual but line 2 has monthly period"
    )


def test_frequency_argument_that_contradicts_the_periods():
    with pytest.raises(
        IngestError,
        match=r"line 2, column 2 \(ds\): period '2023' is annual but series 'a' was "
        r"declared monthly: mixed frequencies",
    ):
        load_series(csv("unique_id,ds,y\na,2023,1\n"), frequency="monthly")


def test_unknown_frequency_argument():
    with pytest.raises(IngestError, match="unknown frequency 'weekly'; expected one of annual, quarterly, monthly"):
        load_series(csv("unique_id,ds,y\na,2023,1\n"), frequency="weekly")


def test_unknown_frequency_from_weekly_dates():
    text = "unique_id,ds,y\na,2023-01-02,1\na,2023-01-09,2\na,2023-01-16,3\n"
    with pytest.raises(
        IngestError,
        match=r"line 2, column 2 \(ds\): cannot tell the frequency of series 'a' "
        r"from its dates \(2023-01-02 and 2023-01-09 fall in one month\)",
    ):
        load_series(csv(text))


def test_unreadable_period():
    with pytest.raises(IngestError) as err:
        load_series(csv("unique_id,ds,y\na,2023-01,1\na,Febr 2023,2\n"))
    assert str(err.value) == (
        "line 3, column 2 (ds): cannot read the period 'Febr 2023'; expected 2023, 2023-Q1, 2023Q1, 2023-01, "
        "202301, 2023M01, Jan 2023, 2023.01 or a date such as 2023-01-31"
    )
    with pytest.raises(IngestError, match=r"line 2, column 2 \(ds\): cannot read the period '2023-13'"):
        load_series(csv("unique_id,ds,y\na,2023-13,1\n"))


def test_share_outside_unit_interval():
    text = "unique_id,ds,y\nru_export_settlement_share_cny,2024-01,0.408\nru_export_settlement_share_cny,2024-02,40.8\n"
    with pytest.raises(IngestError) as err:
        load_series(csv(text), kind="share")
    assert str(err.value) == (
        "line 3, column 3 (y): share 40.8 for series 'ru_export_settlement_share_cny' is outside [0, 1] "
        "(percentages? divide by 100)"
    )
    with pytest.raises(IngestError, match=r"line 2, column 3 \(y\): share -0.1 .* is outside \[0, 1\]$"):
        load_series(csv("unique_id,ds,y,kind\ns,2024-01,-0.1,share\n"))


def test_negative_trade_value():
    text = "unique_id,ds,y\ncn_ru_exports,2023-01,9.3\ncn_ru_exports,2023-02,-9.3\n"
    with pytest.raises(IngestError) as err:
        load_series(csv(text))
    assert str(err.value) == (
        "line 3, column 3 (y): negative trade value -9.3 for series 'cn_ru_exports'; trade values are >= 0 "
        "(load balances with allow_negative=True)"
    )
    assert load_series(csv(text), allow_negative=True).frame.y.tolist() == [9.3, -9.3]


def test_empty_file():
    with pytest.raises(IngestError, match=r"^the file is empty"):
        load_series(b"")
    with pytest.raises(IngestError, match=r"^the file is empty"):
        load_series(b"  \n\n")
    with pytest.raises(IngestError, match="the file has a header line but no data lines"):
        load_series(csv("unique_id,ds,y\n\n"))
    with pytest.raises(IngestError, match="the JSON list has no records"):
        load_series(b"[]", format="json")
    with pytest.raises(IngestError, match="the sheet has a header row but no data rows"):
        load_series(xlsx([["unique_id", "ds", "y"]]))


def test_wrong_encoding_names_line_column_and_byte():
    data = "unique_id,ds,y\nb,2023-01,1\nré,2023-01,1\n".encode("latin-1")
    with pytest.raises(IngestError) as err:
        load_series(data)
    assert str(err.value).startswith("line 3, column 2: the file is not valid UTF-8 (byte 0xE9).")
    assert "Save it as UTF-8" in str(err.value)
    assert (err.value.line, err.value.column, err.value.value) == (3, 2, "0xE9")


def test_utf16_file_gets_a_hint():
    with pytest.raises(IngestError, match="looks like UTF-16"):
        load_series("unique_id,ds,y\na,2023,1\n".encode("utf-16"), format="csv")


def test_file_over_the_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_bytes(b"unique_id,ds,y\n" + b"a,2023,1\n" * 200)
    with pytest.raises(
        IngestError,
        match=r"the file is 0.0 MB; the limit is 0.0 MB \(1000 bytes, setting "
        r"TRADECAST_MAX_UPLOAD_BYTES\)",
    ):
        load_series(path, max_bytes=1000)
    with pytest.raises(IngestError, match=r"more than 0\.0 MB"):
        load_series(io.BytesIO(path.read_bytes()), max_bytes=1000)
    # The library never reads the environment: without max_bytes the default applies
    # (the service passes its own TRADECAST_MAX_UPLOAD_BYTES).
    from data.ingest import DEFAULT_MAX_UPLOAD_BYTES

    monkeypatch.setenv("TRADECAST_MAX_UPLOAD_BYTES", "500")
    assert DEFAULT_MAX_UPLOAD_BYTES == 50 * 1024 * 1024
    small = tmp_path / "small.csv"
    small.write_bytes(b"unique_id,ds,y\n" + b"".join(b"a,%d,1\n" % year for year in range(1900, 2000)))
    assert small.stat().st_size > 500
    assert load_series(small).n_series == 1


def test_invalid_series_id():
    with pytest.raises(IngestError) as err:
        load_series(csv("unique_id,ds,y\nok,2023,1\nnot ok/1,2023,1\n"))
    assert str(err.value) == (
        "line 3, column 1 (unique_id): invalid series id 'not ok/1': use 1-100 characters from "
        "A-Z, a-z, 0-9, '_', '.', '-'."
    )
    with pytest.raises(IngestError, match=r"line 1, column 2 \(header\): invalid series id 'bad id'"):
        load_series(csv("period,bad id\n2020,1\n"))


def test_missing_columns_in_long_layout():
    with pytest.raises(IngestError, match=r"line 1: a long file needs columns 'unique_id', 'ds' and 'y'"):
        load_series(csv("a,b\n1,2\n"), layout="long")
    with pytest.raises(IngestError, match="no 'unique_id' column; add one or pass series_id="):
        load_series(csv("ds,y\n2020,1\n"))


def test_line_numbers_follow_the_file_with_quoted_newlines_and_blank_lines():
    text = 'unique_id,ds,y,note\na,2023-01,1,"two\nlines"\n\na,2023-02,x,ok\n'
    with pytest.raises(IngestError, match=r"^line 5, column 3 \(y\): non-numeric value 'x'"):
        load_series(csv(text))


def test_invalid_json_names_line_and_column():
    with pytest.raises(IngestError, match=r"line 2, column 1: invalid JSON"):
        load_series(b'[{"unique_id": "a", "ds": "2023", "y": 1},\n]', format="json")
    with pytest.raises(IngestError, match=r"record 2 \(y\): non-numeric value 'abc'"):
        load_series(b'[{"unique_id":"a","ds":"2023","y":1},{"unique_id":"a","ds":"2024","y":"abc"}]')


def test_not_an_xlsx_file():
    with pytest.raises(IngestError, match=r"not an \.xlsx workbook"):
        load_series(b"unique_id,ds,y\n", format="xlsx")


def test_frame_is_sorted_and_typed():
    result = load_series(csv("unique_id,ds,y\nb,2023-02,2\na,2023-02,4\nb,2023-01,1\na,2023-01,3\n"))
    assert result.frame.unique_id.tolist() == ["a", "a", "b", "b"]
    assert isinstance(result.frame.ds.dtype, pd.PeriodDtype)
    assert result.frame.y.tolist() == [3.0, 4.0, 1.0, 2.0]


def _with_cached_result(book: bytes, cell: str, value: str) -> bytes:
    """``book`` with ``value`` saved as the result of the formula in ``cell`` (as Excel would)."""
    source = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                start = text.index(f'<c r="{cell}"')
                end = text.index("</c>", start)
                text = text[:start] + text[start:end].replace("<v />", f"<v>{value}</v>") + text[end:]
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def test_xlsx_formula_without_saved_result_is_refused_naming_the_cell():
    book = xlsx([["ds", "y"], ["2020", 1], ["2021", "=1+1"], ["2022", 3]])
    with pytest.raises(IngestError, match=r"cell B3 of sheet 'Sheet1' holds the formula '=1\+1'") as err:
        load_series(book, format="xlsx", frequency="annual", series_id="f")
    assert err.value.code == "invalid_input" and err.value.line == 3 and err.value.column == 2


def test_xlsx_formula_with_saved_result_reads_the_result():
    book = _with_cached_result(xlsx([["ds", "y"], ["2020", 1], ["2021", "=1+1"], ["2022", 3]]), "B3", "2")
    result = load_series(book, format="xlsx", frequency="annual", series_id="f")
    assert result.frame["y"].tolist() == [1.0, 2.0, 3.0]


def test_xlsx_real_gaps_stay_gaps():
    result = load_series(xlsx([["ds", "y"], ["2020", 1], ["2021", None], ["2022", 3]]), format="xlsx", series_id="g")
    assert result.frame["y"].isna().tolist() == [False, True, False]


def test_json_integer_longer_than_python_reads_is_an_ingest_error() -> None:
    # Regression (fuzz corpus): a 5,000-digit integer raised a bare ValueError (a 500 at the API).
    doc = '[{"unique_id": "a", "ds": "2000", "y": ' + "9" * 5_000 + "}]"
    with pytest.raises(IngestError, match="number too long"):
        load_series(doc.encode(), format="json", frequency="annual")
