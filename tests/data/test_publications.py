"""Files shaped like the real publications (Comtrade, IMF, Eurostat), separators, decimal commas, scales.

Fixtures: tests/fixtures/publications/ (see its README for the source of every figure).
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from data import IngestError, load_series
from data.publications import recognise_layout, scale_in_header

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "publications"


def test_comtrade_export_is_recognised_with_quoted_thousands():
    result = load_series(FIXTURES / "comtrade_rus_chn_2019.csv")
    assert sorted(result.metas) == ["rus_chn_export", "rus_chn_import"]
    meta = result.metas["rus_chn_import"]
    assert meta.frequency == "monthly" and meta.unit == "USD"
    assert meta.tags == {"reporter": "RUS", "partner": "CHN", "flow": "Import", "source": "UN Comtrade"}
    imports = result.frame[result.frame.unique_id == "rus_chn_import"]
    assert imports.ds.astype(str).tolist() == ["2019-01", "2019-02", "2019-03", "2019-04"]
    assert imports.y.tolist() == [4_066_666_430.0, 4_067_762_760.0, 3_971_287_160.0, 4_079_676_600.0]


def test_comtrade_bad_value_names_line_column_and_value():
    text = (FIXTURES / "comtrade_rus_chn_2019.csv").read_text().replace('"4,067,762,760"', '"4,067,76"')
    with pytest.raises(IngestError) as err:
        load_series(text.encode())
    e = err.value
    assert str(e).startswith("line 3, column 16 (Trade Value (US$)): non-numeric value '4,067,76'")
    assert (e.line, e.column, e.value) == (3, 16, "4,067,76")


def test_imf_dots_wide_layout():
    result = load_series(FIXTURES / "imf_dots_chn_rus_2015_2020.csv")
    sid = "imf_924_txg_fob_usd_922"
    assert sid in result.metas and len(result.metas) == 4
    meta = result.metas[sid]
    assert meta.frequency == "annual" and meta.unit == "USD"
    assert meta.tags["reporter"] == "China" and meta.tags["partner"] == "Russia" and meta.tags["flow"] == "export"
    y = result.frame[result.frame.unique_id == sid].set_index("ds").y
    assert y[y.index.astype(str) == "2019"].iloc[0] == 49_484_540_460.0


def test_imf_bad_period_header_names_the_header_cell():
    text = (FIXTURES / "imf_dots_chn_rus_2015_2020.csv").read_text().replace(",2017,", ",2017.5,", 1)
    with pytest.raises(IngestError) as err:
        load_series(text.encode())
    assert str(err.value).startswith("line 1, column 10 (header): cannot read the period '2017.5'")
    assert (err.value.line, err.value.column, err.value.value) == (1, 10, "2017.5")


def test_imf_skips_status_rows():
    text = (FIXTURES / "imf_dots_chn_rus_2015_2020.csv").read_text()
    status = "China,924,Status,TXG_FOB_USD,Russia,922,Status,,,,,e,\n"
    result = load_series((text + status).encode())
    assert len(result.metas) == 4


def test_eurostat_tsv_with_flags_and_missing():
    result = load_series(FIXTURES / "eurostat_comext_ru_2020.tsv")
    assert sorted(result.metas) == ["m.exp.ru.at", "m.exp.ru.fi", "m.imp.ru.at", "m.imp.ru.fi"]
    meta = result.metas["m.exp.ru.fi"]
    assert meta.tags == {"source": "Eurostat", "flow": "EXP", "partner": "RU", "reporter": "FI"}
    fi = result.frame[result.frame.unique_id == "m.exp.ru.fi"].y.tolist()
    assert fi == [220590922.0, 244296262.0, 276461147.0, 235794248.0]  # flag 'p' dropped
    fi_imp = result.frame[result.frame.unique_id == "m.imp.ru.fi"].y
    assert fi_imp.isna().sum() == 1  # ':' is a gap


def test_eurostat_bad_value_names_line_column_and_value():
    text = (FIXTURES / "eurostat_comext_ru_2020.tsv").read_text().replace("155961592 ", "15x5961592 ")
    with pytest.raises(IngestError) as err:
        load_series(text.encode(), format="csv")
    assert str(err.value).startswith("line 3, column 3 (2020-02): non-numeric value '15x5961592'")


def test_eurostat_sdmx_csv():
    text = (
        "DATAFLOW,LAST UPDATE,freq,stk_flow,partner,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
        "ESTAT:DS-045409(1.0),22/01/23 23:00:00,M,EXP,RU,AT,2020-01,162765399,\n"
        "ESTAT:DS-045409(1.0),22/01/23 23:00:00,M,EXP,RU,AT,2020-02,177383056,p\n"
    )
    result = load_series(text.encode())
    assert list(result.metas) == ["m.exp.ru.at"]
    assert result.frame.y.tolist() == [162765399.0, 177383056.0]


def test_semicolon_decimal_comma_and_header_scale():
    result = load_series(FIXTURES / "fcs_semicolon_decimal_comma.csv")
    assert result.scale == "millions"
    assert result.metas["ru_exports_to_cn"].unit == "USD"
    exports = result.frame[result.frame.unique_id == "ru_exports_to_cn"]
    assert exports.ds.astype(str).tolist() == ["2019-01", "2019-02", "2019-03"]
    assert exports.y.tolist() == pytest.approx([4237.97395e6, 4190.95672e6, 4723.45116e6], rel=1e-15)


def test_semicolon_file_with_dot_decimal_declared():
    result = load_series(b"unique_id;ds;y\na;2019;1.5\na;2020;2\n", decimal=".")
    assert result.frame.y.tolist() == [1.5, 2.0]


def test_decimal_comma_error_names_line_column_value():
    with pytest.raises(IngestError) as err:
        load_series(b"unique_id;ds;y\na;2019;1,5\na;2020;2.5\n")
    assert str(err.value).startswith("line 3, column 3 (y): non-numeric value '2.5' for series 'a'")
    assert "decimal mark ','" in str(err.value)


def test_declared_scale_multiplies_values():
    result = load_series(b"unique_id,ds,y\na,2019,1.5\na,2020,2\n", scale="thousands")
    assert result.frame.y.tolist() == [1500.0, 2000.0] and result.scale == "thousands"


def test_declared_scale_contradicting_header_is_refused():
    with pytest.raises(IngestError) as err:
        load_series(b"unique_id,ds,value_musd\na,2019,1.5\n", scale="billions")
    assert str(err.value).startswith(
        "line 1, column 3 (header): the value column 'value_musd' says millions but scale='billions'"
    )
    assert (err.value.line, err.value.column, err.value.value) == (1, 3, "value_musd")


def test_value_named_column_in_a_wide_file_stays_a_series():
    result = load_series(b"period,value_total\n2019,1\n2020,2\n")
    assert list(result.metas) == ["value_total"] and result.scale == "units"


def test_unknown_scale_and_separator_options_are_refused():
    with pytest.raises(IngestError, match="unknown scale 'lakh'"):
        load_series(b"unique_id,ds,y\na,2019,1\n", scale="lakh")
    with pytest.raises(IngestError, match="unknown decimal mark"):
        load_series(b"unique_id,ds,y\na,2019,1\n", decimal="'")
    with pytest.raises(IngestError, match="unknown delimiter"):
        load_series(b"unique_id,ds,y\na,2019,1\n", delimiter="|")


def test_scale_words_in_headers():
    assert scale_in_header("Value (USD millions)") == "millions"
    assert scale_in_header("value_musd") == "millions"
    assert scale_in_header("USD bn") == "billions"
    assert scale_in_header("Trade Value (US$)") is None
    assert scale_in_header("amount") is None


def test_recognise_layout_leaves_tidy_files_alone():
    assert recognise_layout(["unique_id", "ds", "y"]) is None
    assert recognise_layout(["period", "a", "b"]) is None


def test_csv_header_row_skips_title_lines():
    text = b"Russia trade with China\nsource: FCS\nunique_id,ds,y\na,2019M01,1\na,2019M02,x\n"
    with pytest.raises(IngestError) as err:
        load_series(text, header_row=3)
    assert str(err.value).startswith("line 5, column 3 (y): non-numeric value 'x'")
    result = load_series(text.replace(b",x", b",2"), header_row=3)
    assert result.frame.y.tolist() == [1.0, 2.0]


def _book() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["see sheet data"])
    ws = book.create_sheet("data")
    ws.append(["Table 1. Trade"])
    ws.append([])
    ws.append(["unique_id", "ds", "Value (USD bn)"])
    ws.append(["cn_ru", "2023", 240.11])
    ws.append(["cn_ru", "2024", "n/a?"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_sheet_and_header_row():
    with pytest.raises(IngestError) as err:
        load_series(_book(), sheet="data", header_row=3)
    assert str(err.value).startswith("row 5, column 3 (Value (USD bn)): non-numeric value 'n/a?'")
    assert (err.value.line, err.value.column) == (5, 3)


def test_xlsx_unknown_sheet_lists_sheets():
    with pytest.raises(IngestError, match=r"no sheet named 'Data'; the workbook has sheets \['notes', 'data'\]"):
        load_series(_book(), sheet="Data")


def _fcs_book(stray: str | None = None) -> bytes:
    """Shaped like Rosstat's "96stran.xlsx" (Russian customs, FCS): contents sheet, one sheet per
    flow, title rows, partner header with an empty first cell, a year row, Russian month rows.
    Figures: exports to China, the Netherlands and Germany, Jan-Mar 2019, USD millions, retyped from
    russia_fcs_trade_by_partner_monthly_2006_2021.csv of the shared domain data (the "…" replaces
    Germany's February figure, 2905.39766, to exercise a missing cell)."""
    book = openpyxl.Workbook()
    book.active.title = "Содержание"
    ws = book.create_sheet("Экспорт")
    ws.append(["К содержанию"])
    ws.append(["Экспорт Российской Федерации в основные страны"])
    ws.append(["(по данным ФТС России)"])
    ws.append(["(млн доллалов США)"])
    ws.append([None, "Китaй", "Нидерлaнды", "Гермaния"])
    ws.append([2019])
    ws.append(["  январь", 4237.97395, 3409.29257, 3138.16978])
    ws.append(["  февраль", 4190.95672, 4288.89523, "…"])
    ws.append([stray or "  март", 4723.45116, 4447.222, 2811.01684])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_russian_customs_workbook_sheet_header_row_and_scale():
    result = load_series(_fcs_book(), sheet="Экспорт", header_row=5, scale="millions")
    assert list(result.metas) == ["ru_export_kitai", "ru_export_niderlandy", "ru_export_germaniya"]
    meta = result.metas["ru_export_kitai"]
    assert meta.frequency == "monthly" and meta.unit == "USD"
    assert meta.tags == {"reporter": "Russia", "partner": "Китaй", "flow": "export", "source": "FCS of Russia"}
    china = result.frame[result.frame.unique_id == "ru_export_kitai"]
    assert china.ds.astype(str).tolist() == ["2019-01", "2019-02", "2019-03"]
    assert china.y.tolist() == pytest.approx([4237.97395e6, 4190.95672e6, 4723.45116e6], rel=1e-15)
    assert result.frame[result.frame.unique_id == "ru_export_germaniya"].y.isna().sum() == 1


def test_russian_customs_workbook_stray_row_names_row_and_value():
    with pytest.raises(IngestError) as err:
        load_series(_fcs_book(stray="итого"), sheet="Экспорт", header_row=5)
    assert str(err.value).startswith("row 9, column 1: 'итого' is neither a year nor a month name")
    assert (err.value.line, err.value.column, err.value.value) == (9, 1, "итого")


def test_russian_customs_workbook_bad_value_names_row_and_partner():
    book = _fcs_book()
    assert len(load_series(book, sheet="Экспорт", header_row=5, layout="fcs").metas) == 3
    raw = openpyxl.load_workbook(io.BytesIO(book))
    raw["Экспорт"]["C8"] = "4288,9?"
    buf = io.BytesIO()
    raw.save(buf)
    with pytest.raises(IngestError) as err:
        load_series(buf.getvalue(), sheet="Экспорт", header_row=5)
    assert str(err.value).startswith("row 8, column 3 (Нидерлaнды): non-numeric value '4288,9?'")


def test_options_for_another_format_are_refused_not_ignored():
    with pytest.raises(IngestError, match="sheet applies to Excel files; this upload is csv"):
        load_series(b"unique_id,ds,y\na,2019,1\n", sheet="data")
    with pytest.raises(IngestError, match="delimiter and decimal apply to CSV files; this upload is xlsx"):
        load_series(_book(), decimal=",")
    with pytest.raises(IngestError, match="header_row applies to CSV and Excel files"):
        load_series(b'[{"unique_id": "a", "ds": "2019", "y": 1}]', header_row=2)
