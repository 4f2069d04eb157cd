"""Reconciliation from few points: per-step variance weights and the warning when a node moves."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from forecasting.exceptions import ReconciliationWarning
from forecasting.structure import build_hierarchy, forecast_hierarchy
from forecasting.structure.hierarchy import warn_moved
from forecasting.structure.reconcile import count_complete_rows, step_variance_matrix

TREE = {"total": ["x", "m"]}


def test_step_variance_matrix_is_coherent_and_trusts_the_surer_node() -> None:
    tree = build_hierarchy(TREE)
    rng = np.random.default_rng(0)
    # total sure (sd 1), parts vague (sd 10) at step 0; the other way round at step 1.
    sds = np.array([[1.0, 10.0], [10.0, 1.0], [10.0, 1.0]])
    paths = rng.standard_normal((3, 2, 4000)) * sds[:, :, None]
    g = step_variance_matrix(tree.summing, paths)
    assert g.shape == (2, 2, 3)
    for h in range(2):
        np.testing.assert_allclose(g[h] @ tree.summing, np.eye(2), atol=1e-9)  # coherent input unchanged
    base = np.array([100.0, 60.0, 60.0])  # parts sum to 120, total says 100
    total_step0 = (tree.summing @ g[0] @ base)[0]
    total_step1 = (tree.summing @ g[1] @ base)[0]
    assert abs(total_step0 - 100.0) < 2.0  # the sure total wins
    assert abs(total_step1 - 120.0) < 2.0  # the sure parts win


def test_warn_moved_names_node_and_period_only_when_outside_its_band() -> None:
    index = pd.period_range("2026", periods=2, freq="Y")
    rng = np.random.default_rng(1)
    paths = 100.0 + rng.standard_normal((1, 2, 2000))  # 80% band about 98.7-101.3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert warn_moved(["total"], index, np.array([[100.5], [100.2]]), paths) == {}
        moved = warn_moved(["total"], index, np.array([[100.5], [104.0]]), paths)
    assert list(moved) == ["total"] and "2027" in moved["total"] and "80% band" in moved["total"]
    [w] = [c for c in caught if issubclass(c.category, ReconciliationWarning)]
    assert w.category.code == "reconciliation_moved"


def _ragged_frame() -> pd.DataFrame:
    """The bundled annual structure's shape: total to 2025, parts sparse and ending 2024."""
    sample = pd.read_csv("data/samples/cn_ru_trade_annual.csv")
    ids = {"cn_ru_trade_total_annual": "total", "cn_ru_exports_annual": "x", "cn_ru_imports_annual": "m"}
    frame = sample[sample["unique_id"].isin(list(ids))].copy()
    frame["unique_id"] = frame["unique_id"].map(ids)
    frame["ds"] = pd.PeriodIndex(frame["ds"].astype(str), freq="Y")
    return frame[["unique_id", "ds", "y"]]


def test_few_residual_rows_use_step_variances_and_flag_the_moved_total() -> None:
    frame = _ragged_frame()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = forecast_hierarchy(frame, 3, TREE, model="structural", missing="model", tolerance=0.01, n_paths=500)
    assert out.attrs["method"] == "mint_shrink"
    assert out.attrs["method_used"] == "wls_step_variance"
    wide = out.pivot(index="ds", columns="unique_id", values="mean")
    np.testing.assert_allclose(wide["total"], wide["x"] + wide["m"], rtol=1e-9)
    flagged = {str(c.message).split("'")[1] for c in caught if issubclass(c.category, ReconciliationWarning)}
    assert flagged == set(out.attrs["moved"])
    # Either the reconciled total stays inside the total's own 80% band, or it is flagged.
    own = forecast_hierarchy(
        frame[frame["unique_id"] == "total"].assign(unique_id="x"),
        3,
        {"t": ["x"]},
        model="structural",
        missing="model",
        n_paths=500,
    )
    inside = own[own["unique_id"] == "x"].set_index("ds")
    lo, hi = inside["lo_80"].to_numpy(), inside["hi_80"].to_numpy()
    total = wide["total"].to_numpy()
    assert np.all((total >= lo) & (total <= hi)) or "total" in out.attrs["moved"]


@pytest.mark.parametrize("n_rows", [3, 20])
def test_count_complete_rows(n_rows: int) -> None:
    residuals = np.ones((n_rows + 2, 3))
    residuals[0, 1] = np.nan
    residuals[1, 2] = np.nan
    assert count_complete_rows(residuals) == n_rows
