"""Property (issue 18 acceptance): a positive series never gets a negative mean, bound or path.

Random positive series (noisy, trending down towards zero, with sudden drops), every
registered model, horizons 1-30. The fast version runs in the default suite with a few
examples per model; the ``slow`` one draws more examples, monthly series included, and also
checks the sample paths of :func:`forecasting.simulate`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecasting
from forecasting.exceptions import ForecastingWarning
from forecasting.registry import REGISTRY

#: Observations per frequency: enough for every model's min_obs (two seasons plus one).
_LENGTHS = {"Y": (8, 30), "Q": (12, 40), "M": (30, 60)}


@st.composite
def positive_series(draw: st.DrawFn, freqs: tuple[str, ...]) -> pd.Series:
    freq = draw(st.sampled_from(freqs))
    n = draw(st.integers(*_LENGTHS[freq]))
    seed = draw(st.integers(0, 2**32 - 1))
    shape = draw(st.sampled_from(("noise", "decline", "drop")))
    level = draw(st.floats(0.01, 1e6))
    rng = np.random.default_rng(seed)
    if shape == "noise":  # independent draws, some near zero: wide bands
        values = rng.uniform(0.0, 1.0, n)
    elif shape == "decline":  # a trend heading for zero
        values = np.maximum(np.linspace(1.0, 0.05, n) + 0.1 * rng.standard_normal(n), 0.001)
    else:  # a level that collapses near the end
        values = np.where(np.arange(n) < n - 3, 1.0, 0.02) * np.exp(0.2 * rng.standard_normal(n))
    start = {"Y": "1990", "Q": "1990Q1", "M": "1990-01"}[freq]
    return pd.Series(level * values, index=pd.period_range(start, periods=n, freq=freq), name="y")


def _check_forecast(model: str, y: pd.Series, horizon: int) -> None:
    with warnings.catch_warnings():
        # Convergence and fallback notes on wild random data are not what this test is about.
        warnings.simplefilter("ignore", ForecastingWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fc = forecasting.forecast(y, horizon, levels=(50, 80, 95), model=model)
    assert fc.attrs["nonnegative"] is True
    values = fc.to_numpy()
    assert np.isfinite(values).all()
    assert (values >= 0).all(), f"{model}: negative value in\n{fc}"


def _check_paths(model: str, y: pd.Series, horizon: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastingWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        paths = forecasting.simulate(y, horizon, n_paths=200, model=model, seed=0)
    assert (paths.to_numpy() >= 0).all(), f"{model}: negative sample path"


@pytest.mark.parametrize("model", list(REGISTRY))
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(y=positive_series(("Y", "Q")), horizon=st.integers(1, 30))
def test_positive_series_never_get_a_negative_forecast(model: str, y: pd.Series, horizon: int) -> None:
    _check_forecast(model, y, horizon)


@pytest.mark.slow
@pytest.mark.parametrize("model", list(REGISTRY))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(y=positive_series(("Y", "Q", "M")), horizon=st.integers(1, 30))
def test_positive_series_never_get_a_negative_forecast_or_path(model: str, y: pd.Series, horizon: int) -> None:
    _check_forecast(model, y, horizon)
    _check_paths(model, y, horizon)
