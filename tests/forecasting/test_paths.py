"""Sample paths: marginals, dependence across steps, seeds, shares; full_year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import forecasting
from forecasting import full_year, simulate
from forecasting.exceptions import InvalidParameterError, InvalidSeriesError
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.models.arima import ARIMA
from forecasting.models.ets import ETS
from forecasting.models.naive import Naive
from forecasting.sampling import map_to_marginals, quantile_grid, random_walk_weights
from forecasting.testing import make_series


def _random_walk(n: int = 120, seed: int = 0, freq: str = "M") -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.period_range("2000-01", periods=n, freq=freq)
    return pd.Series(1000.0 + np.cumsum(rng.normal(0.0, 5.0, n)), index=index, name="rw")


def test_simulate_frame_continues_index_like_forecast() -> None:
    y = make_series("M", 48, index_kind="datetime")
    paths = simulate(y, 5, n_paths=50, model="naive", seed=0)
    fc = forecasting.forecast(y, 5, model="naive")
    assert paths.shape == (5, 50)
    assert paths.index.equals(fc.index) and paths.index.name == "ds"
    assert list(paths.columns) == list(range(50))
    assert paths.attrs["model"] == "naive"


def test_simulate_seed_reproducible_and_seeds_differ() -> None:
    y = make_series("M", 48)
    a = simulate(y, 4, n_paths=30, model="ets", seed=5)
    pd.testing.assert_frame_equal(a, simulate(y, 4, n_paths=30, model="ets", seed=5))
    assert not np.array_equal(a.to_numpy(), simulate(y, 4, n_paths=30, model="ets", seed=6).to_numpy())


def test_simulate_auto_quantiles_match_calibrated_bounds() -> None:
    y = make_series("M", 72, seed=2)
    fc = forecasting.forecast(y, 12, levels=(80, 95))
    paths = simulate(y, 12, n_paths=2000, seed=1).to_numpy()
    for level in (80, 95):
        tail = (1 - level / 100) / 2
        assert np.allclose((paths < fc[lo_col(level)].to_numpy()[:, None]).mean(axis=1), tail, atol=0.01)
        assert np.allclose((paths > fc[hi_col(level)].to_numpy()[:, None]).mean(axis=1), tail, atol=0.01)
    assert np.allclose(paths.mean(axis=1), fc[MEAN], rtol=0.01)


def test_random_walk_sum_variance_matches_model_not_independent_draws() -> None:
    y = _random_walk()
    model = Naive().fit(y)
    horizon = 12
    total = model.sample_paths(horizon, 20_000, random_state=0).to_numpy().sum(axis=0)
    steps = np.arange(1, horizon + 1)
    # Sum of a random walk's next h values: shock j enters h - j + 1 of them.
    expected = model.sigma2_ * np.sum(steps**2)
    independent = model.sigma2_ * np.sum(steps)
    assert np.var(total) == pytest.approx(expected, rel=0.05)
    assert np.var(total) > 5 * independent


def test_ets_sum_variance_matches_state_space_recursion() -> None:
    y = _random_walk(seed=3)
    model = ETS(model="ANN").fit(y)
    par = model.engine_.model_["par"]
    alpha, sigma2 = float(par[0]), float(model.engine_.model_["sigma2"])
    horizon = 12
    total = model.sample_paths(horizon, 20_000, random_state=1).to_numpy().sum(axis=0)
    # ETS(A,N,N): y_{t+k} = l_t + e_{t+k} + alpha * (e_{t+1} + ... + e_{t+k-1}); shock j enters
    # its own step with weight 1 and each later step with weight alpha.
    j = np.arange(1, horizon + 1)
    expected = sigma2 * np.sum((1 + alpha * (horizon - j)) ** 2)
    independent = sigma2 * np.sum(1 + alpha**2 * (j - 1))
    assert np.var(total) == pytest.approx(expected, rel=0.06)
    assert abs(np.var(total) - independent) > 0.3 * independent


def test_arima_sum_variance_matches_psi_weights() -> None:
    rng = np.random.default_rng(4)
    e = rng.normal(0, 1, 200)
    x = np.zeros(200)
    for t in range(1, 200):
        x[t] = 0.7 * x[t - 1] + e[t]
    # An integrated AR(1): the forecast sums differences, so psi-weights accumulate.
    y = pd.Series(500 + np.cumsum(x), index=pd.period_range("2000-01", periods=200, freq="M"), name="ari")
    model = ARIMA(seasonality_test=True).fit(y)
    ss = model.engine_.model_["model"]
    ar = np.convolve(np.r_[1.0, -np.asarray(ss["phi"], dtype=float)], np.r_[1.0, -np.asarray(ss["delta"], dtype=float)])
    ma = np.asarray(ss["theta"], dtype=float)
    horizon = 8
    psi = np.zeros(horizon)
    psi[0] = 1.0
    for k in range(1, horizon):
        psi[k] = (ma[k - 1] if k - 1 < len(ma) else 0.0) - sum(
            ar[i] * psi[k - i] for i in range(1, min(k, len(ar) - 1) + 1)
        )
    sigma2 = float(model.engine_.model_["sigma2"])
    cum = np.cumsum(psi)
    expected = sigma2 * np.sum(cum**2)
    total = model.sample_paths(horizon, 20_000, random_state=2).to_numpy().sum(axis=0)
    assert np.var(total) == pytest.approx(expected, rel=0.06)


def test_share_paths_stay_inside_unit_interval() -> None:
    rng = np.random.default_rng(0)
    share = pd.Series(
        np.clip(0.3 + np.cumsum(rng.normal(0, 0.03, 60)), 0.02, 0.98),
        index=pd.period_range("2010-01", periods=60, freq="M"),
        name="share",
    )
    paths = simulate(share, 24, n_paths=500, model="naive", kind="share", seed=0).to_numpy()
    assert paths.min() > 0.0 and paths.max() < 1.0
    fc = forecasting.forecast(share, 24, levels=(95,), model="naive", kind="share")
    assert np.allclose((paths < fc[lo_col(95)].to_numpy()[:, None]).mean(axis=1), 0.025, atol=0.01)


def test_engine_simulation_leaves_global_random_state_alone() -> None:
    np.random.seed(123)
    expected = np.random.random_sample()
    np.random.seed(123)
    simulate(make_series("M", 48), 3, n_paths=20, model="ets", seed=0)
    assert np.random.random_sample() == expected


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True, 10**6])
def test_simulate_rejects_bad_n_paths(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="n_paths"):
        simulate(make_series("M", 48), 3, n_paths=bad, model="naive")  # type: ignore[arg-type]


def test_point_only_model_cannot_sample() -> None:
    from forecasting.base import BaseForecaster
    from forecasting.exceptions import IntervalsNotSupportedError

    class Flat(BaseForecaster):
        def _fit(self, y: pd.Series) -> None:
            self.last_ = float(y.iloc[-1])

        def _predict(self, horizon: int, levels: tuple[int, ...]) -> tuple[np.ndarray, dict]:
            return np.full(horizon, self.last_), {}

    with pytest.raises(IntervalsNotSupportedError):
        Flat().fit(make_series("M", 24)).sample_paths(3)


def test_map_to_marginals_keeps_ranks_and_hits_grid() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(3, 1000)) ** 3  # far from normal on purpose
    levels = tuple(range(1, 100))
    intervals = {lv: (np.full(3, -norm.ppf(0.5 + lv / 200)), np.full(3, norm.ppf(0.5 + lv / 200))) for lv in levels}
    probs, q = quantile_grid(intervals)
    mapped = map_to_marginals(raw, probs, q)
    assert np.array_equal(np.argsort(mapped, axis=1), np.argsort(raw, axis=1))
    assert np.allclose(np.quantile(mapped, [0.025, 0.975], axis=1).T, [-1.96, 1.96], atol=0.02)


def test_random_walk_weights_seasonal_lag() -> None:
    w = random_walk_weights(5, lag=2)
    assert w.tolist()[4] == [1.0, 0.0, 1.0, 0.0, 1.0]


# --------------------------------------------------------------------------- full_year
def test_full_year_row_for_current_year() -> None:
    y = _random_walk(117)  # ends 2009-09: 9 months of 2009 observed
    out = full_year(y, levels=(80, 95), model="naive", n_paths=4000)
    assert list(out.columns) == [
        "observed",
        "periods_observed",
        "mean",
        "median",
        "lo_80",
        "hi_80",
        "lo_95",
        "hi_95",
    ]
    assert out.index.equals(pd.PeriodIndex(["2009"], freq="Y", name="ds"))
    row = out.iloc[0]
    assert row["observed"] == pytest.approx(y.iloc[-9:].sum())
    assert row["periods_observed"] == 9
    # Naive: the remaining three months are last + a random walk; their sum has variance
    # sigma2 * (1 + 4 + 9), so the 95% interval is the mean +- 1.96 sqrt(14) sigma.
    sigma = np.sqrt(Naive().fit(y).sigma2_)
    assert row["mean"] == pytest.approx(y.iloc[-9:].sum() + 3 * y.iloc[-1], rel=1e-3)
    half = 1.96 * np.sqrt(14) * sigma
    assert row["hi_95"] - row["lo_95"] == pytest.approx(2 * half, rel=0.06)


def test_full_year_next_year_when_last_one_complete() -> None:
    y = _random_walk(120, freq="M")  # ends 2009-12
    out = full_year(y, model="naive", n_paths=200)
    assert out.index[0] == pd.Period("2010", freq="Y")
    assert out["observed"].iloc[0] == 0.0 and out["periods_observed"].iloc[0] == 0


def test_full_year_quarterly_mean_for_shares() -> None:
    rng = np.random.default_rng(1)
    share = pd.Series(
        np.clip(0.4 + np.cumsum(rng.normal(0, 0.02, 42)), 0.05, 0.95),
        index=pd.period_range("2000Q1", periods=42, freq="Q"),
        name="share",
    )
    out = full_year(share, model="naive", kind="share", how="mean", n_paths=500)
    row = out.iloc[0]
    assert row["periods_observed"] == 2
    assert row["observed"] == pytest.approx(share.iloc[-2:].mean())
    assert 0.0 < row["lo_95"] <= row["mean"] <= row["hi_95"] < 1.0


def test_full_year_is_deterministic_by_default() -> None:
    y = _random_walk(110)
    pd.testing.assert_frame_equal(full_year(y, model="naive"), full_year(y, model="naive"))


def test_full_year_rejects_annual_data() -> None:
    with pytest.raises(InvalidSeriesError, match="monthly or quarterly"):
        full_year(make_series("Y", 30, seasonal=False), model="naive")


def test_full_year_rejects_unknown_how() -> None:
    with pytest.raises(InvalidParameterError, match="how"):
        full_year(_random_walk(), how="median", model="naive")


def test_full_year_rejects_incomplete_year_to_date() -> None:
    short = _random_walk(40).loc["2002-04":"2002-08"]  # starts inside its only year
    with pytest.raises(InvalidSeriesError, match="year-to-date is incomplete"):
        full_year(short, model="naive")
