"""Report definitions with drivers, events and scenarios: validation, the section, HTML and the workbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from data import SeriesMeta, Store
from forecasting.exceptions import InvalidParameterError
from reports.definitions import ReportDefinition
from reports.driven import compute_driven_section
from reports.jobs import collect_report, run_report
from reports.render import render_html
from reports.store import ReportStore
from reports.xlsx import render_xlsx

N, H = 60, 6  # Jan 2019 - Dec 2023; forecast Jan-Jun 2024
AS_OF = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
PUBLISHED = datetime(2024, 1, 10, tzinfo=UTC)


def _driven(seed: int = 4) -> tuple[pd.Series, pd.Series]:
    """y = 50 + 3 x + noise (monthly, N periods); x a random walk over N + 12 periods (an assumed path after y)."""
    rng = np.random.default_rng(seed)
    idx = pd.period_range("2019-01", periods=N + 12, freq="M")
    x = pd.Series(np.cumsum(rng.normal(0.0, 1.0, N + 12)) + 20.0, index=idx, name="x")
    y = pd.Series(50.0 + 3.0 * x.to_numpy()[:N] + rng.normal(0.0, 0.5, N), index=idx[:N], name="y")
    return y, x


def _definition(**options: object) -> ReportDefinition:
    return ReportDefinition(name="drv", series_ids=("y",), model="structural", horizon=H, series_options={"y": options})


# ---------------------------------------------------------------- definitions
def test_driver_options_are_validated_and_round_trip() -> None:
    d = _definition(
        drivers={"oil": "brent"},
        events=[{"ds": "2022-03", "type": "level_shift"}],
        scenarios={"low": {"oil": "brent_low"}},
        driver_uncertainty=True,
        check_breaks="true",
    )
    again = ReportDefinition.from_dict(d.to_dict())
    assert again.series_options == d.series_options
    assert _definition(drivers=["brent", "rub"], missing="model").series_options["y"]["drivers"] == ["brent", "rub"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"drivers": "brent"}, "drivers must be"),
        ({"drivers": []}, "drivers must be"),
        ({"drivers": ["a", "a"]}, "twice"),
        ({"events": [{"ds": "2022-03", "type": "earthquake"}]}, "type must be one of"),
        ({"events": [{"type": "pulse"}]}, "'ds'"),
        ({"scenarios": {"low": {"oil": "brent_low"}}}, "need 'drivers'"),
        ({"drivers": ["brent"], "scenarios": {"low": {"oil": "brent_low"}}}, "not among the drivers"),
        ({"drivers": ["brent"], "driver_uncertainty": True}, "applies to scenarios"),
        ({"drivers": ["brent"], "driver_uncertainty": "yes"}, "true or false"),
        ({"drivers": ["brent"], "model": "naive"}, "takes no drivers"),
        ({"regressors": ["brent"]}, "unknown option"),
    ],
)
def test_bad_driver_options_name_the_option(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        _definition(**options)
        ReportDefinition.from_dict(_definition(**options).to_dict())


# ---------------------------------------------------------------- the section (pure)
def test_section_with_drivers_and_scenarios() -> None:
    y, x = _driven()
    low, high = x - 5.0, x + 5.0
    section = compute_driven_section(
        "y",
        y,
        horizon=H,
        levels=(80, 95),
        model="structural",
        drivers={"oil": x},
        driver_ids={"oil": "brent"},
        scenarios={"low": {"oil": low}, "high": {"oil": high}},
        backtest_windows=1,
    )
    assert section.ok, section.error
    assert [w.code for w in section.warnings if w.code == "driver_forecast"] == []
    assert list(section.scenarios) == ["low", "high"]
    # y = 50 + 3 x: the high path (10 above the low one) forecasts about 30 more each month.
    gap = section.scenarios["high"][-1].mean - section.scenarios["low"][-1].mean
    assert 20.0 < gap < 40.0
    drivers = next(b for b in section.blocks if b.title == "Drivers")
    (row,) = drivers.rows
    assert row[:4] == ["oil", "brent", "2024-12", "stored values"]
    # The coefficient of y = 50 + 3 x, its standard error, and 3 mean(x) / mean(y) at the sample means.
    estimate, std_error, elasticity = row[4:]
    assert isinstance(estimate, float) and isinstance(std_error, float) and 0 < std_error < 1
    assert abs(estimate - 3.0) < 4 * std_error
    history = x.reindex(y.index)
    assert elasticity == pytest.approx(estimate * history.mean() / y.mean())
    assert drivers.columns[4:] == ["coefficient", "standard error", "elasticity at the mean"]
    html = "".join(section.extra_html)
    assert 'class="scenario-table"' in html and html.count('class="scenario-chart"') == 2
    assert section.full_year is not None and section.full_year.year == "2024"
    assert section.accuracy is not None


def test_driver_short_of_the_horizon_is_forecast_by_its_own_model_and_said() -> None:
    y, x = _driven()
    section = compute_driven_section(
        "y", y, horizon=H, levels=(80,), model="structural", drivers={"oil": x.iloc[: N + 2]}, backtest_windows=1
    )
    assert section.ok, section.error
    notes = [w.message for w in section.warnings if w.code == "driver_forecast"]
    assert len(notes) == 1 and "'oil'" in notes[0] and "2024-03" in notes[0]
    drivers = next(b for b in section.blocks if b.title == "Drivers")
    assert drivers.rows[0][3] == "own forecast after 2024-02"


def test_driver_gap_in_the_history_fails_the_section_with_its_code() -> None:
    y, x = _driven()
    x = x.copy()
    x.iloc[10] = np.nan
    section = compute_driven_section("y", y, horizon=H, levels=(80,), model="structural", drivers={"oil": x})
    assert not section.ok and section.error_code == "invalid_drivers"
    assert "2019-11" in section.error


def test_latest_stretch_with_drivers_fits_the_latest_stretch_with_the_drivers_cut_to_it() -> None:
    y, x = _driven()
    gappy, x = y.copy(), x.copy()
    gappy.iloc[10] = np.nan
    x.iloc[5] = np.nan  # in the part left out: the drivers are cut to the stretch, so no error
    assert _definition(drivers={"oil": "brent"}, missing="latest_stretch").series_options["y"]["missing"] == (
        "latest_stretch"
    )
    common = {"horizon": H, "levels": (80,), "model": "structural", "backtest_windows": 1}
    section = compute_driven_section("y", gappy, drivers={"oil": x}, missing="latest_stretch", **common)
    assert section.ok, section.error
    assert [w.code for w in section.warnings][:1] == ["missing_values"]
    assert "from 2019-12" in section.warnings[0].message
    tail = compute_driven_section("y", y.iloc[11:], drivers={"oil": x.iloc[11:]}, **common)
    assert section.forecasts == tail.forecasts and section.accuracy == tail.accuracy
    by_default = compute_driven_section("y", gappy, drivers={"oil": x}, **common)  # a report's 'error' does the same
    assert by_default.forecasts == section.forecasts


def test_scenario_path_short_of_the_horizon_is_left_out_with_a_note() -> None:
    y, x = _driven()
    section = compute_driven_section(
        "y",
        y,
        horizon=H,
        levels=(80,),
        model="structural",
        drivers={"oil": x},
        scenarios={"short": {"oil": x.iloc[: N + 2]}, "ok": {"oil": x + 1.0}},
        backtest_windows=1,
    )
    assert list(section.scenarios) == ["ok"]
    assert any("scenario 'short' left out" in w.message and "2024-03" in w.message for w in section.warnings)


# ---------------------------------------------------------------- a run, its HTML and workbook
def _store_driven(store: Store) -> None:
    y, x = _driven()
    meta = SeriesMeta("y", name="Trade", frequency="monthly", unit="USD bn")
    store.series.save_series(meta, y, published_at=PUBLISHED)
    for sid, series in (("brent", x), ("brent_low", x - 5.0), ("brent_high", x + 5.0)):
        store.series.save_series(
            SeriesMeta(sid, name=sid, frequency="monthly", unit="USD"), series, published_at=PUBLISHED
        )


def test_run_reads_drivers_at_as_of_and_renders_scenarios(store: Store, reports: ReportStore) -> None:
    _store_driven(store)
    definition = _definition(
        drivers={"oil": "brent"}, scenarios={"low": {"oil": "brent_low"}, "high": {"oil": "brent_high"}}
    )
    reports.create_definition(definition, now=datetime(2024, 1, 1, tzinfo=UTC))
    report = collect_report(definition, store, AS_OF, backtest_windows=1).report
    section = report.sections[0]
    assert section.ok, section.error
    assert list(section.scenarios) == ["low", "high"]
    html = render_html(report)
    assert 'class="scenario-table"' in html and html.count('class="scenario-chart"') == 2
    assert "Drivers" in html
    book = load_workbook(io.BytesIO(render_xlsx(report)))
    assert "scenarios" in book.sheetnames
    rows = list(book["scenarios"].iter_rows(min_row=4, values_only=True))
    assert len(rows) == 2 * H
    assert {r[1] for r in rows} == {"low", "high"} and {r[0] for r in rows} == {"y"}
    run = run_report("drv", AS_OF, store)
    assert run.status == "succeeded", run.error


def test_run_with_an_unknown_driver_series_fails_that_section(store: Store, reports: ReportStore) -> None:
    _store_driven(store)
    definition = _definition(drivers=["nothing_stored"])
    report = collect_report(definition, store, AS_OF, backtest_windows=1).report
    section = report.sections[0]
    assert not section.ok and section.error_code == "invalid_drivers"
    assert "'nothing_stored'" in section.explanation and "no longer stored" in section.explanation
