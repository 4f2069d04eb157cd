"""forecasting.fit_forecast: one call checks once, fits once and answers everything from that fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting import FullYearOptions, GrowthOptions, backtest_models, fit_forecast, plan_forecast
from forecasting.base import BaseForecaster
from forecasting.exceptions import FutureDriversError, InvalidParameterError, StructuralBreakWarning
from forecasting.models.statespace import RegressionARIMA
from forecasting.testing import make_series

N, H = 60, 6  # Jan 2019 - Dec 2023; forecast Jan-Jun 2024, the blocks' paths run to Dec 2024


@pytest.fixture(scope="module")
def driven() -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(5)
    idx = pd.period_range("2019-01", periods=N + 12, freq="M")
    x = pd.Series(np.cumsum(rng.normal(0.0, 1.0, N + 12)) + 10.0, index=idx)
    y = pd.Series(50.0 + 3.0 * x.to_numpy()[:N] + rng.normal(0.0, 0.5, N), index=idx[:N], name="y")
    return y, x.to_frame("x")


def test_frame_blocks_and_backtest_match_the_library_functions(driven) -> None:
    y, drivers = driven
    X, X_future = drivers.iloc[:N], drivers.iloc[N:]
    fitted = fit_forecast(
        y, H, (80, 95), "regression_arima", drivers=drivers, growth=GrowthOptions(), full_year=FullYearOptions()
    )
    expected = forecasting.forecast(y, H, (80, 95), "regression_arima", X=X, X_future=X_future.iloc[:H])
    pd.testing.assert_frame_equal(fitted.forecast, expected)
    outlook = forecasting.forecast_outlook(
        y, H, (80, 95), "regression_arima", X=X, X_future=X_future, growth=GrowthOptions(), full_year=FullYearOptions()
    )
    assert fitted.growth is not None and outlook.growth is not None
    pd.testing.assert_frame_equal(fitted.growth.annual, outlook.growth.annual)
    backtest = forecasting.backtest(y, H, 2, models=("regression_arima",), levels=(80, 95), X=X)
    pd.testing.assert_frame_equal(fitted.backtest(2), backtest)
    assert fitted.paths(50, seed=1).shape == (12, 50)


def test_one_fit_serves_frame_blocks_and_scenarios(driven, monkeypatch) -> None:
    y, drivers = driven
    calls = []
    real = BaseForecaster.fit

    def counted(self, y, X=None):
        calls.append(type(self).__name__)
        return real(self, y, X)

    monkeypatch.setattr(BaseForecaster, "fit", counted)
    scenarios = {"high": drivers.iloc[N:] + 5.0}
    fitted = fit_forecast(y, H, (80,), "regression_arima", drivers=drivers, scenarios=scenarios, growth=GrowthOptions())
    # One fit: the censoring at zero (the data are positive) around one regression.
    assert calls == ["NonNegative", "RegressionARIMA"]
    assert list(fitted.scenarios) == ["high"] and fitted.growth is not None
    # y = 50 + 3 x: 5 more of x is about 15 more of y.
    gap = fitted.scenarios["high"]["mean"] - fitted.forecast["mean"]
    assert gap.between(12.0, 18.0).all()


def test_coefficients_are_the_fitted_regression(driven) -> None:
    y, drivers = driven
    fitted = fit_forecast(y, H, (80,), "regression_arima", drivers=drivers)
    (coef,) = fitted.coefficients
    inner = fitted.model.inner_  # censored at zero around the regression (positive data)
    assert isinstance(inner, RegressionARIMA)
    result = inner.result_
    names = list(result.model.param_names)
    assert coef.name == "x" and coef.estimate == pytest.approx(float(result.params[names.index("x1")]))
    assert coef.std_error == pytest.approx(float(result.bse[names.index("x1")]))
    assert abs(coef.estimate - 3.0) < 4 * coef.std_error
    x_mean = float(drivers.iloc[:N]["x"].mean())
    assert coef.elasticity_at_mean == pytest.approx(coef.estimate * x_mean / float(y.mean()))
    assert fit_forecast(y, H, (80,), "naive").coefficients == []


def test_incomplete_scenario_is_one_error_or_one_note(driven) -> None:
    y, drivers = driven
    short = {"short": drivers.iloc[N : N + 3] + 1.0, "full": drivers.iloc[N:] + 1.0}
    with pytest.raises(FutureDriversError, match=r"scenario 'short'.*2024-04"):
        plan_forecast(y, H, (80,), "regression_arima", drivers=drivers, scenarios=short)
    fitted = fit_forecast(
        y, H, (80,), "regression_arima", drivers=drivers, scenarios=short, skip_incomplete_scenarios=True
    )
    assert list(fitted.scenarios) == ["full"]
    (note,) = fitted.skipped_scenarios.values()
    assert note.startswith("scenario 'short' left out: driver 'x'") and "2024-04" in note


def test_option_errors_name_the_option_before_any_fit() -> None:
    y = make_series("M", 60)
    with pytest.raises(InvalidParameterError) as caught:
        plan_forecast(y, 6, growth=GrowthOptions(base=2030))
    assert caught.value.details == {"field": "growth.base", "value": 2030}  # type: ignore[attr-defined]
    with pytest.raises(InvalidParameterError) as caught:
        plan_forecast(y, 6, kind="share", transform="log")
    assert caught.value.details["field"] == "transform"  # type: ignore[attr-defined]


def test_driver_uncertainty_is_named_in_the_interval_method(driven) -> None:
    y, drivers = driven
    scenarios = {"high": drivers.iloc[N:] + 5.0}
    known = fit_forecast(y, H, (80,), "regression_arima", drivers=drivers, scenarios=scenarios)
    assert "drivers taken as known" in known.interval_method
    uncertain = fit_forecast(
        y, H, (80,), "regression_arima", drivers=drivers, scenarios=scenarios, driver_uncertainty=True, n_paths=200
    )
    assert not uncertain.interval_method.startswith("state-space")
    assert "driver_uncertainty" in uncertain.interval_method
    assert "driver_uncertainty" in uncertain.scenarios["high"].attrs["interval_method"]


def test_break_check_warns_once_with_scenarios(driven) -> None:
    y, drivers = driven
    shifted = y + np.where(np.arange(N) >= 30, 40.0, 0.0)
    scenarios = {"a": drivers.iloc[N:], "b": drivers.iloc[N:] + 1.0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_forecast(shifted, H, (80,), "regression_arima", drivers=drivers, scenarios=scenarios, check_breaks=True)
    breaks = [w for w in caught if issubclass(w.category, StructuralBreakWarning)]
    assert len(breaks) == 1


# ---------------------------------------------------------------- backtest_models


def test_backtest_models_labels_each_transformed_model_by_its_name() -> None:
    """With transform='log' every model is wrapped the same way; each keeps its own name and its own rows
    (the REST backtest labelled them all with the last model's name)."""
    y = make_series("M", 48, seed=3)
    frame = backtest_models(y, 3, 2, ["naive", "drift"], (80,), transform="log")
    assert frame["model"].drop_duplicates().tolist() == ["naive", "drift"]
    for name in ("naive", "drift"):
        alone = backtest_models(y, 3, 2, [name], (80,), transform="log")
        pd.testing.assert_frame_equal(frame[frame["model"] == name].reset_index(drop=True), alone)
    plain = backtest_models(y, 3, 2, ["naive"], (80,))
    assert not np.allclose(plain["mean"], frame.loc[frame["model"] == "naive", "mean"])  # the log scale was used


def test_fitted_backtest_is_backtest_models_of_its_plan(driven) -> None:
    y, drivers = driven
    events = [{"ds": "2021-03", "type": "level_shift"}]
    fitted = fit_forecast(y, H, (80,), "regression_arima", drivers=drivers, events=events, transform="log")
    expected = backtest_models(y, H, 2, ["regression_arima"], (80,), transform="log", drivers=drivers, events=events)
    pd.testing.assert_frame_equal(fitted.backtest(2), expected)
    assert set(expected["model"]) == {"regression_arima"}


def test_backtest_models_refuses_like_a_forecast() -> None:
    y = make_series("M", 48, seed=3)
    with pytest.raises(InvalidParameterError) as caught:
        backtest_models(y, 3, 2, ["naive"], transform="sqrt")
    assert caught.value.details["field"] == "transform"  # type: ignore[attr-defined]
    with pytest.raises(InvalidParameterError, match="labels must name each of the 2"):
        forecasting.backtest(y, 3, 2, models=["naive", "drift"], labels=["naive"])
