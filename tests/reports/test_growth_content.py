"""Report growth: the growth columns, the full-year line, shares as percentages, the sentence."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from reports.content import build_report, compute_section, summary_sentence
from reports.render import format_change, format_value, render_html

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)


def test_summary_sentence_reads_like_the_analyst_example() -> None:
    text = summary_sentence(
        "Trade",
        "USD bn",
        "level",
        year="2025",
        mean=262.4,
        bounds={80: (236.0, 289.0), 95: (220.0, 305.0)},
        change=9.24,
        base="2023",
        base_value=240.1,
    )
    assert text == "Trade is forecast at $262 bn in 2025 (80%: 236–289), 9.2% above the 2023 base of $240 bn."


def test_summary_sentence_below_base_share_and_no_base() -> None:
    share = summary_sentence(
        "RUB share",
        "fraction",
        "share",
        year="2024",
        mean=0.25,
        bounds={95: (0.2, 0.3)},
        change=-3.0,
        base="2023",
        base_value=0.26,
        how="mean",
    )
    assert (
        share == "RUB share is forecast to average 25.0% in 2024 (95%: 20.0–30.0%), 3.0% below the 2023 base of 26.0%."
    )
    plain = summary_sentence(
        "Exports", "t", "level", year="2024", mean=5.5, bounds={}, change=None, base="", base_value=None
    )
    assert plain == "Exports is forecast at 5.50 t in 2024."


def test_annual_section_has_growth_columns_and_sentence() -> None:
    y = pd.Series(100.0 + 5 * np.arange(20), index=pd.period_range("2004", periods=20, freq="Y"))
    s = compute_section(
        "t", y, horizon=3, levels=(80, 95), model="naive", title="Trade", unit="USD bn", backtest_windows=1
    )
    assert s.ok and s.base == "2023" and s.base_value == pytest.approx(195.0)
    assert s.full_year is None
    assert all(r.yoy is not None and r.vs_base is not None for r in s.forecasts)
    assert s.forecasts[0].yoy == pytest.approx(s.forecasts[0].vs_base)
    assert s.sentence.startswith("Trade is forecast at $195 bn in 2024 (80%: ")
    assert "the 2023 base of $195 bn." in s.sentence


def test_monthly_section_has_full_year_line() -> None:
    y = pd.Series(10 + 0.1 * np.arange(42) + np.arange(42) % 12, index=pd.period_range("2020-01", periods=42, freq="M"))
    s = compute_section(
        "m", y, horizon=4, levels=(80, 95), model="naive", title="Monthly", unit="USD bn", backtest_windows=1
    )
    fy = s.full_year
    assert fy is not None and fy.year == "2023" and fy.periods_observed == 6 and fy.periods_per_year == 12
    assert fy.observed == pytest.approx(float(y["2023"].sum()))
    assert fy.bounds[95][0] <= fy.bounds[80][0] <= fy.mean <= fy.bounds[80][1] <= fy.bounds[95][1]
    assert fy.vs_base == pytest.approx(fy.vs_previous)  # the base is 2022, the year before
    assert s.forecasts[0].vs_base is None and s.forecasts[0].yoy is not None
    assert s.sentence.startswith("Monthly is forecast at $") and " in 2023 (80%: " in s.sentence


def test_short_series_without_complete_year_still_forecasts() -> None:
    y = pd.Series(np.linspace(5, 8, 9), index=pd.period_range("2024-03", periods=9, freq="M"))
    s = compute_section("short", y, horizon=2, levels=(80,), model="naive", backtest_windows=1)
    assert s.ok and s.base == "" and s.full_year is None and s.forecasts[0].yoy is None


def test_rendered_report_shows_shares_as_percentages_and_growth() -> None:
    y = pd.Series(np.linspace(0.1, 0.3, 30), index=pd.period_range("2020-01", periods=30, freq="M"))
    s = compute_section(
        "sh", y, horizon=2, levels=(80,), model="naive", kind="share", title="RUB share", backtest_windows=1
    )
    html = render_html(
        build_report(
            name="r", title="R", sections=[s], as_of=AS_OF, generated_at=AS_OF, horizon=2, levels=(80,), model="naive"
        )
    )
    assert 'class="sentence">RUB share is forecast to average' in html
    assert 'class="full-year-row"><td>2022 average</td>' in html
    assert f"<td>{format_value(s.forecasts[0].mean, 'share')}</td>" in html and "%</td>" in html
    assert f'<td class="growth">{format_change(s.forecasts[0].yoy)}</td>' in html


def test_format_change_and_value() -> None:
    assert format_change(4.25) == "+4.2%" and format_change(-0.04) == "+0.0%" and format_change(-1) == "\u22121.0%"
    assert format_change(None) == "\u2013" and format_value(0.234, "share") == "23.4%"
    assert format_value(1234.5) == "1,234"
