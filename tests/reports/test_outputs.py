"""One content model, three formats: HTML, PDF (headless Chromium) and an Excel workbook."""

from __future__ import annotations

import dataclasses
import io
import shutil
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from forecasting.exceptions import InvalidParameterError
from reports.content import ContentBlock, ReportData, build_report, compute_section, failed_section
from reports.definitions import ReportDefinition, check_definition
from reports.exceptions import RenderUnavailableError
from reports.outputs import render_outputs
from reports.pdf import find_chromium
from reports.wording import describe_model, describe_warning, explain_error
from reports.xlsx import render_xlsx, sheet_names
from tests.reports.conftest import AS_OF, monthly_series


def _share_series() -> pd.Series:
    rng = np.random.default_rng(3)
    values = np.clip(0.3 + np.cumsum(rng.normal(0.004, 0.01, 48)), 0.05, 0.95)
    return pd.Series(values, index=pd.period_range("2020-01", periods=48, freq="M"), name="share")


@pytest.fixture(scope="module")
def report() -> ReportData:
    sections = [
        compute_section(
            "trade",
            monthly_series(seed=1),
            horizon=4,
            levels=(80, 95),
            model="drift",
            title="Trade",
            unit="USD bn",
            source="GACC via press reports",
            backtest_windows=1,
        ),
        compute_section(
            "yuan_share",
            _share_series(),
            horizon=4,
            levels=(80, 95),
            model="naive",
            kind="share",
            title="Yuan share",
            unit="fraction",
            backtest_windows=1,
        ),
        failed_section("gappy", "InsufficientDataError: 1 observation", code="insufficient_data", title="Gappy"),
    ]
    return build_report(
        name="outputs",
        title="Outputs",
        sections=sections,
        as_of=AS_OF,
        generated_at=datetime(2024, 1, 15, 13, 0, tzinfo=UTC),
        horizon=4,
        levels=(80, 95),
        model="drift",
    )


def test_html_shows_source_shares_in_percent_and_reader_words(report: ReportData) -> None:
    html = render_outputs(report, ("html",))["html"].decode("utf-8")
    assert "Source: GACC via press reports" in html
    assert "Source: not recorded" in html  # a series without a source says so
    last = report.sections[1].last_value
    assert last is not None and f"{100 * last:.1f}%" in html
    assert f"{last:.4f}" not in html  # not as a bare fraction
    assert "Forecast by the last value extended along the average change of the past." in html
    assert "inside the 95% band 95 times in 100" in html
    assert "calibrat" not in html.split("<footer>")[0].lower()  # no tuning talk in the body
    assert "To fix it, load a longer history" in html


def test_xlsx_has_one_sheet_per_series_with_history_forecasts_and_bounds(report: ReportData) -> None:
    book = load_workbook(io.BytesIO(render_xlsx(report)))
    assert book.sheetnames == ["contents", "trade", "yuan_share", "gappy"]
    sheet = book["trade"]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "period")
    assert rows[header_at] == ("period", "actual", "forecast", "lo_80", "hi_80", "lo_95", "hi_95")
    body = rows[header_at + 1 :]
    history = [r for r in body if r[1] is not None]
    future = [r for r in body if r[2] is not None and "total" not in r[0]]
    section = report.sections[0]
    assert len(history) == len(section.history_periods) and len(future) == 4
    assert section.full_year is not None
    assert body[-1][0] == f"{section.full_year.year} total" and body[-1][2] == pytest.approx(section.full_year.headline)
    assert history[-1][1] == pytest.approx(section.history_values[-1])
    for r, fc in zip(future, section.forecasts, strict=True):
        assert r[0] == fc.period and r[2] == pytest.approx(fc.mean)
        assert r[5] <= r[3] <= r[2] <= r[4] <= r[6]
    assert ("Source", "GACC via press reports") in [r[:2] for r in rows]
    share = book["yuan_share"]
    share_header = next(c.row for c in share["A"] if c.value == "period")
    first = share.cell(share_header + 1, 2)
    assert isinstance(first.value, float) and 0 < first.value < 1 and first.number_format == "0.0%"
    gappy = [r for r in book["gappy"].iter_rows(values_only=True) if r and r[0] == "No forecast"]
    assert gappy and "too few observations" in gappy[0][1]


def test_xlsx_is_the_same_workbook_for_the_same_report(report: ReportData) -> None:
    def cells(data: bytes) -> list[list[tuple[object, ...]]]:
        book = load_workbook(io.BytesIO(data))
        return [list(ws.iter_rows(values_only=True)) for ws in book.worksheets]

    first, second = render_xlsx(report), render_xlsx(report)
    assert cells(first) == cells(second)
    assert load_workbook(io.BytesIO(first)).properties.created == report.generated_at.replace(tzinfo=None)


def test_sheet_names_are_valid_and_unique() -> None:
    long_id = "a" * 40
    names = sheet_names([long_id, long_id[:35], "x/y:z", "contents"])
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == 4 and "contents" not in names
    assert names[2] == "x_y_z"


def test_render_outputs_refuses_unknown_formats(report: ReportData) -> None:
    with pytest.raises(InvalidParameterError, match="docx"):
        render_outputs(report, ("html", "docx"))
    with pytest.raises(InvalidParameterError):
        render_outputs(report, ())


def test_pdf_without_chromium_says_how_to_install(report: ReportData, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(RenderUnavailableError, match="make install"):
        find_chromium()
    with pytest.raises(RenderUnavailableError):
        render_outputs(report, ("pdf",))


@pytest.mark.browser
def test_pdf_is_a_pdf_with_the_report_text(report: ReportData) -> None:
    if not shutil.which("chromium") or not shutil.which("pdftotext"):
        pytest.skip("chromium and poppler-utils are installed by `make install`")
    import subprocess

    out = render_outputs(report, ("pdf", "xlsx"))
    assert out["pdf"].startswith(b"%PDF-") and len(out["pdf"]) > 5_000
    text = subprocess.run(["pdftotext", "-", "-"], input=out["pdf"], capture_output=True, check=True).stdout
    words = text.decode("utf-8")
    assert "Outputs" in words and "GACC via press reports" in words and "To fix it" in words


def test_wording_covers_gaps_with_the_missing_option() -> None:
    text = explain_error("missing_values", "InvalidSeriesError: y has 3 missing value(s)")
    assert "missing='model'" in text and "load the missing monthly figures" in text
    # An unknown code keeps the library's message, without the exception's class name.
    assert explain_error("other", "ModelFitError: singular matrix") == "No forecast: singular matrix"
    assert "skips the months that are missing" in describe_model("structural", missing="model")
    assert "did not fully settle" in describe_warning("convergence", "ConvergenceWarning: lbfgs failed")
    assert describe_warning("structural_break", "a break near 2022-03") == "a break near 2022-03"


def test_series_options_are_checked_when_the_definition_is_made() -> None:
    ok = check_definition(
        ReportDefinition(name="r", series_ids=("a",), series_options={"a": {"missing": "model", "kind": "share"}})
    )
    assert ReportDefinition.from_dict(ok.to_dict()) == ok
    for bad in ({"a": {"missing": "fill"}}, {"a": {"colour": "red"}}, {"a": {"model": "nope"}}, {"a": "model"}):
        with pytest.raises(InvalidParameterError, match="series_options"):
            check_definition(ReportDefinition(name="r", series_ids=("a",), series_options=bad))  # type: ignore[arg-type]


def test_content_blocks_show_in_html_and_xlsx(report: ReportData) -> None:
    block = ContentBlock(
        title="Scenarios", columns=["scenario", "2024-04"], rows=[["oil_60", 150.5], ["oil_90", None]], note="A note."
    )
    with_block = dataclasses.replace(report.sections[0], blocks=[block])
    data = dataclasses.replace(report, sections=[with_block, *report.sections[1:]])
    html = render_outputs(data, ("html",))["html"].decode("utf-8")
    assert "<h3>Scenarios</h3>" in html and "<td>oil_60</td><td>150.5</td>" in html and "A note." in html
    rows = list(load_workbook(io.BytesIO(render_xlsx(data)))["trade"].iter_rows(values_only=True))
    at = rows.index(("Scenarios", *([None] * (len(rows[0]) - 1))))
    assert rows[at + 1][:2] == ("scenario", "2024-04") and rows[at + 2][:2] == ("oil_60", 150.5)
