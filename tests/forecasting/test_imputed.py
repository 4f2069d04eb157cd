"""ImputedAuto: auto through gaps by the structural smoother's completion (issue 32, point 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.auto import Auto
from forecasting.models.imputed import ImputedAuto, smoothed_completion
from forecasting.models.statespace import AutoStateSpace
from forecasting.testing import make_series


def _gappy(y: pd.Series, share: float, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    out = y.copy()
    out.iloc[rng.choice(len(y) - 1, size=round(share * len(y)), replace=False)] = np.nan
    return out


@pytest.fixture(scope="module")
def monthly() -> pd.Series:
    return make_series("M", 48, seed=3)


def test_smoothed_completion_fills_only_the_gaps(monthly: pd.Series) -> None:
    gappy = _gappy(monthly, 0.3)
    filled, _ = smoothed_completion(gappy)
    seen = gappy.notna()
    pd.testing.assert_series_equal(filled[seen], gappy[seen])
    assert filled.notna().all()
    # The smoother's estimates are near the values that were removed (noise sd 2, level ~100).
    assert float(np.mean(np.abs(filled[~seen] - monthly[~seen]))) < 6.0


def test_imputed_auto_on_a_complete_series_is_auto(monthly: pd.Series) -> None:
    ours = ImputedAuto().fit(monthly).predict(6, (80, 95))
    plain = Auto().fit(monthly).predict(6, (80, 95))
    pd.testing.assert_frame_equal(ours, plain)


def test_imputed_auto_through_gaps_gives_valid_nested_bands(monthly: pd.Series) -> None:
    gappy = _gappy(monthly, 0.3)
    model = ImputedAuto(n_imputations=2).fit(gappy)
    fc = model.predict(6, (80, 95))
    assert model.n_imputed_ == int(gappy.isna().sum()) and isinstance(model.inner_, Auto)
    assert np.all(np.isfinite(fc.to_numpy()))
    assert np.all(fc["lo_95"] <= fc["lo_80"]) and np.all(fc["lo_80"] <= fc["mean"])
    assert np.all(fc["mean"] <= fc["hi_80"]) and np.all(fc["hi_80"] <= fc["hi_95"])
    # Same seed, same answer; the point forecast is the smoothed completion's, whatever the draws.
    again = ImputedAuto(n_imputations=2).fit(gappy).predict(6, (80, 95))
    pd.testing.assert_frame_equal(fc, again)
    single = ImputedAuto().fit(gappy).predict(6, (80, 95))
    np.testing.assert_allclose(fc["mean"], single["mean"])


def test_imputed_auto_paths_follow_its_bands(monthly: pd.Series) -> None:
    model = ImputedAuto(n_imputations=2).fit(_gappy(monthly, 0.3))
    fc = model.predict(4, (80,))
    paths = model.sample_paths(4, 4000, random_state=1).to_numpy()
    np.testing.assert_allclose(np.quantile(paths, 0.1, axis=1), fc["lo_80"], rtol=0.02)
    np.testing.assert_allclose(np.quantile(paths, 0.9, axis=1), fc["hi_80"], rtol=0.02)


def test_sparse_series_is_left_to_the_state_space_model(monthly: pd.Series) -> None:
    sparse = _gappy(monthly, 0.6)
    model = ImputedAuto().fit(sparse)
    assert isinstance(model.inner_, AutoStateSpace) and model.params_["sparse"] is True
    assert "state-space" in model.interval_method_


def test_forecast_missing_model_uses_the_imputed_auto(monthly: pd.Series) -> None:
    gappy = _gappy(monthly, 0.3)
    fc = forecasting.forecast(gappy, 6, (80, 95), missing="model")
    direct = ImputedAuto().fit(gappy).predict(6, (80, 95))
    np.testing.assert_allclose(fc["mean"], direct["mean"])
    assert "smoother" in fc.attrs["interval_method"]


@pytest.mark.parametrize("bad", [{"n_imputations": -1}, {"n_imputations": 1.5}, {"min_observed_share": 0}])
def test_imputed_auto_bad_parameters_are_named(monthly: pd.Series, bad: dict[str, object]) -> None:
    with pytest.raises(forecasting.InvalidParameterError, match=next(iter(bad))):
        ImputedAuto(**bad).fit(_gappy(monthly, 0.3))  # type: ignore[arg-type]
