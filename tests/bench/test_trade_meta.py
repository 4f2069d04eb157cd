"""The trade meta-learner: features, the FFORMA objective, folds by series, scoring against auto."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench import trade, trade_meta


def _monthly(seasonal: float, noise: float, n: int = 96, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100.0 * np.exp(0.005 * t + seasonal * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, n))


def test_features_tell_seasonal_from_noisy_series():
    seasonal = trade_meta.features(_monthly(0.3, 0.01), 12)
    noisy = trade_meta.features(_monthly(0.0, 0.2), 12)
    assert list(seasonal) == list(trade_meta.FEATURES)
    assert seasonal["seasonal"] > 0.9 > 0.3 > noisy["seasonal"]
    assert noisy["volatility"] > 2 * seasonal["volatility"]
    assert seasonal["entropy"] < noisy["entropy"] <= 1.0
    assert noisy["acf1"] < -0.2  # differenced white noise
    annual = trade_meta.features(_monthly(0.0, 0.05, n=25), 1)
    assert annual["seasonal"] == 0.0 and annual["acf_season"] == 0.0
    assert annual["log_n"] == pytest.approx(np.log(25))


def _toy(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Member 0 loses when the first feature is positive, member 1 otherwise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    good = x[:, 0] > 0
    loss = np.c_[np.where(good, 1.4, 0.7), np.where(good, 0.7, 1.4)] + rng.normal(0, 0.05, (n, 2))
    return x, loss


@pytest.mark.parametrize("name", ["fforma_linear(0.01)", "rf_softmax(0.05)", "rf_select", "rf_classifier"])
def test_learners_put_weight_on_the_member_that_loses_less(name):
    x, loss = _toy()
    new, new_loss = _toy(seed=1)
    weights = trade_meta.variants()[name](x, loss)(new)
    assert weights.shape == new_loss.shape
    assert np.allclose(weights.sum(axis=1), 1.0)
    learned = (weights * new_loss).sum(axis=1).mean()
    assert learned < 0.85 < new_loss.mean()  # equal weights lose about 1.05


def test_cross_validation_never_trains_on_the_series_it_weighs():
    cases = [trade.Case("imf_annual", f"s{i % 7}", str(2004 + i // 7), pd.Series(dtype=float), np.ones(1), 1, 1)
             for i in range(28)]  # fmt: skip
    x = np.arange(28.0)[:, None]
    seen: list[set[str]] = []

    def learner(xt: np.ndarray, lt: np.ndarray) -> trade_meta.Weigher:
        seen.append({cases[int(i)].series_id for i in xt[:, 0]})
        return lambda new: np.full((len(new), 2), 0.5)

    weights = trade_meta.cross_validate(cases, x, np.ones((28, 2)), learner)
    assert len(seen) == 5 and np.allclose(weights, 0.5)
    held_out = [{c.series_id for c in cases} - s for s in seen]
    assert all(h and not (h & s) for h, s in zip(held_out, seen, strict=True))
    assert set().union(*held_out) == {c.series_id for c in cases}


def test_gap_row_pairs_over_series():
    cases = [trade.Case("imf_annual", s, o, pd.Series(dtype=float), np.ones(1), 1, 1)
             for s in ("a", "b") for o in ("2004", "2005")]  # fmt: skip
    errs = np.array([[10.0, 1.0], [12.0, 1.2], [20.0, 2.0], [20.0, 2.0]])
    base = np.array([[10.0, 1.0], [10.0, 1.0], [22.0, 2.0], [22.0, 2.0]])
    row = trade_meta.gap_row(cases, errs, base)
    assert row["smape"] == pytest.approx((11.0 + 20.0) / 2)
    assert row["d_smape"] == pytest.approx((1.0 - 2.0) / 2)
    assert row["d_smape_se"] == pytest.approx(np.std([1.0, -2.0], ddof=1) / np.sqrt(2))
    assert row["d_mase"] == pytest.approx(0.05)


def test_constant_weights_ignore_features_and_favour_the_better_member():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 3))
    loss = np.c_[np.full(60, 0.8), np.full(60, 1.2)] + rng.normal(0, 0.05, (60, 2))
    weights = trade_meta.variants()["constant weights"](x, loss)(rng.normal(size=(5, 3)))
    assert np.allclose(weights, weights[0]) and weights[0, 0] > 0.95
