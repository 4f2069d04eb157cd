"""The report is sendable (issue 34, item 6): one number format per table, no axis offsets,
titles from names with the id beneath, wording by frequency, timestamps to the minute."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from reports.charts import axis_number, fan_chart_svg
from reports.content import build_report, compute_section, section_title
from reports.render import format_number, render_html, table_decimals
from reports.wording import describe_model
from tests.reports.conftest import AS_OF, monthly_series

GENERATED = datetime(2024, 1, 15, 12, 5, 42, 123456, tzinfo=UTC)


def _annual(values: np.ndarray, name: str = "y") -> pd.Series:
    return pd.Series(values, index=pd.period_range("2000", periods=len(values), freq="Y"), name=name)


def _html(*sections) -> str:
    report = build_report(
        name="polish",
        title="Polish",
        sections=list(sections),
        as_of=AS_OF,
        generated_at=GENERATED,
        horizon=3,
        levels=(80, 95),
        model="drift",
    )
    return render_html(report)


def _cells(html: str, row_class: str) -> list[list[str]]:
    rows = re.findall(rf'<tr class="{row_class}">(.*?)</tr>', html, flags=re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)[1:] for row in rows]


@pytest.mark.parametrize(
    ("values", "decimals"), [([1.148, 0.7469, 0.05985], 3), ([64_097_791_335.0, 1.5e9], 0), ([], 0), ([0.0012], 6)]
)
def test_table_decimals_follow_the_largest_figure(values, decimals):
    assert table_decimals(values) == decimals


def test_forecast_table_writes_every_figure_with_the_same_decimals():
    # Values near 1 that fall towards 0: per-value significant digits would mix 3, 4 and 5 decimals.
    y = _annual(np.array([2.0, 1.8, 1.5, 1.3, 1.148, 0.95, 0.7469, 0.5, 0.3, 0.05985]))
    section = compute_section("ratio", y, horizon=3, levels=(80, 95), model="drift", backtest_windows=1)
    cells = [c for row in _cells(_html(section), "forecast-row") for c in row[:5]]
    assert len(cells) == 15
    decimals = {len(c.split(".")[1]) if "." in c else 0 for c in cells}
    assert len(decimals) == 1, cells


def test_large_values_have_no_axis_offset_and_read_with_scale_words():
    y = _annual(6.4e10 + 1e8 * np.arange(20), name="big")
    section = compute_section("big", y, horizon=3, levels=(80,), model="drift", backtest_windows=1, unit="USD")
    svg = fan_chart_svg(section)
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert not [t for t in labels if re.search(r"\de[+-]?\d", t)], labels  # matplotlib's offset: "1e10"
    assert "65bn" in labels, labels
    assert axis_number(6.41e10) == "64.1bn" and axis_number(250_000.0) == "250k" and axis_number(0.5) == "0.5"


def test_title_is_the_series_name_with_the_id_as_subtitle():
    named = compute_section("cn_ru_x", monthly_series(36), horizon=3, levels=(80, 95), model="drift", title="Exports")
    unnamed = compute_section("cn_ru_total", monthly_series(36, seed=2), horizon=3, levels=(80, 95), model="drift")
    html = _html(named, unnamed)
    assert "<h2>Exports</h2>" in html and "<h2>CN RU total</h2>" in html
    subtitles = re.findall(r'<p class="subtitle meta">Series <code>(.*?)</code>', html)
    assert subtitles == ["cn_ru_x", "cn_ru_total"]
    assert section_title("trade_of_cn", "") == "Trade of CN"


@pytest.mark.parametrize("model", ["naive2", "ets", "structural", "seasonal_naive", "sa_arima", "deseasonalized"])
def test_annual_series_are_never_described_with_a_seasonal_pattern(model):
    assert "season" not in describe_model(model, frequency="annual")


def test_gaps_are_named_by_the_frequency():
    assert "skips the quarters" in describe_model("structural", frequency="quarterly")
    assert "skips the months" in describe_model("structural", frequency="monthly")
    assert "skips the years" in describe_model("structural", frequency="annual")


def test_annual_section_text_has_no_seasonal_wording():
    y = _annual(100.0 + 3.0 * np.arange(20))
    section = compute_section("a", y, horizon=2, levels=(80, 95), model="ets", backtest_windows=1)
    assert "season" not in section.model_description
    assert "season" not in re.sub(r"seasonal naive error", "", _html(section))


def test_timestamps_are_to_the_minute():
    html = _html(compute_section("m", monthly_series(36), horizon=3, levels=(80, 95), model="drift"))
    footer = html[html.index("<footer>") :]
    assert "generated 2024-01-15 12:05 UTC" in footer and "12:05:42" not in html and "123456" not in html
    assert 'datetime="2024-01-15T12:05:00+00:00"' in html


def test_format_number_with_fixed_decimals():
    assert format_number(0.05985, decimals=3) == "0.060"
    assert format_number(1234.56, decimals=1) == "1,234.6"
