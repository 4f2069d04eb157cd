"""``forecast_shares``' default anchoring of short compositions (issue 32, point 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.exceptions import InvalidParameterError
from forecasting.structure.shares import (
    ANCHOR_YEARS,
    anchor_composition,
    anchor_paths,
    anchor_weight,
    forecast_share_values,
    forecast_shares,
    simulate_shares,
)


def _shares(n: int, k: int = 3, seed: int = 0, freq: str = "M") -> pd.DataFrame:
    """Wide shares that wander (so the model's forecast and the recent median differ), none near 0."""
    rng = np.random.default_rng(seed)
    logits = np.cumsum(rng.normal(0, 0.15, (n, k)), axis=0) + np.linspace(0.0, 0.5, k)
    arr = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    index = pd.period_range("2015-01", periods=n, freq=freq, name="ds")
    return pd.DataFrame(arr, index=index, columns=[f"c{i}" for i in range(k)])


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    return wide.stack().rename("y").reset_index().rename(columns={"level_1": "unique_id"})


def _means(out: pd.DataFrame) -> pd.DataFrame:
    return out.pivot(index="ds", columns="unique_id", values="mean")


def _check_composition(out: pd.DataFrame) -> None:
    assert np.allclose(out.groupby("ds")["mean"].sum(), 1.0, atol=1e-12, rtol=0)
    bounds = out[["lo_95", "lo_80", "hi_80", "hi_95"]]
    assert ((bounds >= 0) & (bounds <= 1)).all().all()
    assert (out["lo_95"] <= out["lo_80"]).all() and (out["lo_80"] <= out["mean"]).all()
    assert (out["mean"] <= out["hi_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()


def test_anchor_weight_at_its_knots_and_between() -> None:
    assert ANCHOR_YEARS == (3.0, 6.0)
    assert [anchor_weight(n, 12) for n in (18, 36, 54, 72, 180)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    assert anchor_weight(48, 12) == pytest.approx(2 / 3)
    assert [anchor_weight(n, 4) for n in (12, 18, 24)] == [1.0, 0.5, 0.0]
    assert anchor_weight(5, 1, (2.0, 8.0)) == pytest.approx(0.5)
    assert anchor_weight(24, None) == 0.0  # no calendar year: never anchored


def test_anchor_paths_shift_the_mean_by_the_weight_and_keep_compositions() -> None:
    rng = np.random.default_rng(1)
    raw = rng.dirichlet([40.0, 30.0, 30.0], size=(3, 500)).transpose(0, 2, 1)  # (horizon, components, paths)
    anchor = np.array([0.2, 0.3, 0.5])
    half = anchor_paths(raw, anchor, 0.5)
    assert np.allclose(half.sum(axis=1), 1.0) and (half >= 0).all()
    # Far from 0 nothing is clipped, so the mean moves exactly half way and the band keeps its width.
    expected = raw.mean(axis=2) + 0.5 * (anchor[None, :] - raw.mean(axis=2))
    assert np.allclose(half.mean(axis=2), expected, atol=1e-12)
    assert np.allclose(half.std(axis=2), raw.std(axis=2), atol=1e-12)
    assert np.allclose(anchor_paths(raw, anchor, 1.0).mean(axis=2), anchor[None, :], atol=1e-12)
    assert anchor_paths(raw, anchor, 0.0) is raw


def test_anchor_composition_is_the_closed_median_of_the_last_year() -> None:
    wide = _shares(30)
    expected = wide.iloc[-12:].median().to_numpy()
    got = anchor_composition(wide, 12)
    assert got is not None
    assert np.allclose(got, expected / expected.sum()) and got.sum() == pytest.approx(1.0)
    gappy = wide.copy()
    gappy.iloc[-12:-1, 0] = np.nan  # one value left in the last year: still a composition
    assert anchor_composition(gappy, 12) is not None
    gappy.iloc[-1, 0] = np.nan
    assert anchor_composition(gappy, 12) is None  # c0 unpublished all year: nothing to anchor to


def test_long_history_is_exactly_the_model_alone() -> None:
    frame = _long(_shares(84))  # 7 years: weight 0
    on = forecast_shares(frame, 6, model="naive", n_paths=300)
    off = forecast_shares(frame, 6, model="naive", n_paths=300, anchor_years=None)
    pd.testing.assert_frame_equal(on, off, check_exact=True)


def test_short_history_is_pulled_to_the_recent_median_composition() -> None:
    wide = _shares(24)  # 2 years: weight 1
    anchor = wide.iloc[-12:].median().to_numpy()
    anchor = anchor / anchor.sum()
    on = forecast_shares(_long(wide), 6, model="drift", n_paths=400)
    off = forecast_shares(_long(wide), 6, model="drift", n_paths=400, anchor_years=None)
    _check_composition(on)
    assert np.allclose(_means(on).to_numpy(), anchor[None, :], atol=1e-9)
    assert np.abs(_means(off).to_numpy() - anchor[None, :]).max() > 0.01  # the rule did something
    assert on.attrs["anchor_years"] == ANCHOR_YEARS and off.attrs["anchor_years"] is None


def test_history_between_the_knots_moves_the_forecast_by_the_weight() -> None:
    wide = _shares(54, seed=3)  # 4.5 years: weight 0.5
    frame = _long(wide)
    sim_off = simulate_shares(frame, 4, model="drift", n_paths=300, anchor_years=None)
    sim_on = simulate_shares(frame, 4, model="drift", n_paths=300)
    anchor = anchor_composition(wide[list(sim_off.components)], 12)
    assert anchor is not None
    np.testing.assert_array_equal(sim_on.shares, anchor_paths(sim_off.shares, anchor, 0.5))
    assert np.allclose(sim_on.shares.sum(axis=1), 1.0)
    _check_composition(forecast_shares(frame, 4, model="drift", n_paths=300))


def test_values_and_sparse_shares_are_anchored_too() -> None:
    wide = _shares(24, seed=5)
    anchor = wide.iloc[-12:].median().to_numpy()
    anchor = anchor / anchor.sum()
    from_values = forecast_shares(_long(250.0 * wide), 3, model="drift", n_paths=300, values=True)
    assert np.allclose(_means(from_values).to_numpy(), anchor[None, :], atol=1e-9)
    gappy = wide.copy()
    gappy.iloc[[3, 8, 15], 1] = np.nan
    sparse = forecast_shares(
        _long(gappy).dropna(), 3, model="structural", missing="model", n_paths=200, anchor_years=(3, 6)
    )
    _check_composition(sparse)
    expected = gappy.iloc[-12:].median().to_numpy()  # no gap in the last year here
    assert np.allclose(_means(sparse).to_numpy(), (expected / expected.sum())[None, :], atol=1e-9)


def test_share_values_use_the_anchored_shares() -> None:
    wide = _shares(24, seed=7)
    total = pd.Series(np.linspace(100.0, 130.0, 30), index=pd.period_range("2014-07", periods=30, freq="M"), name="t")
    out = forecast_share_values(_long(wide), total, 3, model="drift", n_paths=300)
    means = out.pivot(index="ds", columns="unique_id", values="mean")
    assert np.allclose(means[["c0", "c1", "c2"]].sum(axis=1), means["t"], rtol=1e-12)
    off = forecast_share_values(_long(wide), total, 3, model="drift", n_paths=300, anchor_years=None)
    assert not np.allclose(means.to_numpy(), off.pivot(index="ds", columns="unique_id", values="mean").to_numpy())


@pytest.mark.parametrize("bad", [(6, 3), (3, 3), (-1, 2), (1, float("nan")), "soon", (1, 2, 3)])
def test_bad_anchor_years_are_refused(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="anchor_years"):
        forecast_shares(_long(_shares(24)), 2, model="naive", anchor_years=bad)  # type: ignore[arg-type]
