"""The default base of structures (issue 32): ``auto``'s paths centred on untested AutoETS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.auto import Auto
from forecasting.models.ets import ETS
from forecasting.structure import build_hierarchy, forecast_hierarchy
from forecasting.structure._joint import NodeDraws, draw_nodes
from forecasting.structure.hierarchy import base_centre, reconcile_draws

TREE = {"total": ["x", "m"]}


def _frame(freq: str, n: int, season: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    parts = []
    for i, uid in enumerate(("x", "m")):
        wave = 8 * np.sin(2 * np.pi * t / season + i) if season > 1 else 0.0
        values = 100 + 10 * i + 0.3 * t + wave + np.cumsum(rng.normal(0, 2, n))
        index = pd.period_range("2010-01" if freq == "M" else "2000", periods=n, freq=freq)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": index, "y": values}))
    return pd.concat(parts, ignore_index=True)


def _series(frame: pd.DataFrame) -> dict[str, pd.Series]:
    wide = frame.pivot(index="ds", columns="unique_id", values="y")
    wide["total"] = wide["x"] + wide["m"]
    return {n: wide[n] for n in build_hierarchy(TREE).nodes}


def _reconciled(series: dict[str, pd.Series], draws: dict[str, NodeDraws], horizon: int) -> pd.DataFrame:
    last = next(iter(series.values())).index[-1]
    index = pd.period_range(last + 1, periods=horizon, freq=last.freq)
    return reconcile_draws(build_hierarchy(TREE), draws, "mint_shrink", (80, 95), index, 0)


@pytest.fixture(scope="module")
def monthly() -> tuple[pd.DataFrame, dict[str, pd.Series], pd.DataFrame]:
    frame = _frame("M", 72, 12)
    return frame, _series(frame), forecast_hierarchy(frame, 12, TREE, n_paths=300)


def test_default_monthly_base_is_the_bench_hybrid(monthly) -> None:
    _, series, out = monthly
    ets = draw_nodes(series, 12, 300, ETS(seasonality_test=False), 0, 1)
    auto = draw_nodes(series, 12, 300, "auto", 0, 1)
    # bench.structure_bench.hybrid_draws: ETS point forecast and residuals, auto's paths.
    hybrid = {n: NodeDraws(d.mean, auto[n].paths, d.residuals, "h") for n, d in ets.items()}
    expected = _reconciled(series, hybrid, 12)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-9, atol=1e-9)
    assert out.attrs["models"] == {n: "ets_untested@auto" for n in series}
    # The means are those of the untested AutoETS base reconciled alone, not auto's own.
    alone = _reconciled(series, ets, 12)
    np.testing.assert_allclose(out["mean"], alone["mean"], rtol=1e-9)
    assert not np.allclose(out["mean"], _reconciled(series, auto, 12)["mean"], rtol=1e-6)


def test_default_monthly_base_is_coherent_with_nested_bounds(monthly) -> None:
    _, _, out = monthly
    means = out.pivot(index="ds", columns="unique_id", values="mean")
    np.testing.assert_allclose(means["total"], means["x"] + means["m"], rtol=1e-9)
    assert (out["lo_95"] <= out["lo_80"]).all() and (out["lo_80"] <= out["mean"]).all()
    assert (out["mean"] <= out["hi_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()


def test_default_quarterly_base_fits_untested_ets_beside_auto() -> None:
    frame = _frame("Q", 48, 4, seed=2)
    out = forecast_hierarchy(frame, 8, TREE, n_paths=200)
    series = _series(frame)
    alone = _reconciled(series, draw_nodes(series, 8, 200, ETS(seasonality_test=False), 0, 1), 8)
    np.testing.assert_allclose(out["mean"], alone["mean"], rtol=1e-9)
    assert set(out.attrs["models"].values()) == {"ets_untested@auto"}


def test_annual_structure_keeps_the_auto_base() -> None:
    frame = _frame("Y", 30, 1, seed=3)
    out = forecast_hierarchy(frame, 4, TREE, n_paths=200)
    series = _series(frame)
    expected = _reconciled(series, draw_nodes(series, 4, 200, "auto", 0, 1), 4)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-9, atol=1e-9)
    assert set(out.attrs["models"].values()) == {"auto"}


def test_explicit_model_is_not_centred() -> None:
    frame = _frame("M", 60, 12, seed=4)
    out = forecast_hierarchy(frame, 6, TREE, model="theta", n_paths=200)
    assert set(out.attrs["models"].values()) == {"theta"}


@pytest.mark.parametrize(
    ("model", "season_length", "missing", "centred"),
    [
        ("auto", 12, "error", True),
        ("auto", 4, "error", True),
        ("auto", 1, "error", False),
        ("auto", 12, "model", False),
        ("ets", 12, "error", False),
        (Auto(), 12, "error", False),
    ],
)
def test_base_centre_only_for_the_default_on_seasonal_structures(model, season_length, missing, centred) -> None:
    centre = base_centre(model, season_length, missing)
    assert (centre is not None) == centred
    if centre is not None:
        label, ets = centre
        assert label == "ets_untested" and isinstance(ets, ETS) and ets.seasonality_test is False


def test_series_too_short_for_ets_keeps_autos_own_forecast() -> None:
    y = pd.Series([10.0, 12.0, 11.0, 13.0, 12.5], index=pd.period_range("2020-01", periods=5, freq="M"), name="t")
    centred = draw_nodes({"t": y}, 3, 100, "auto", 0, 1, centre=base_centre("auto", 12, "error"))["t"]
    plain = draw_nodes({"t": y}, 3, 100, "auto", 0, 1)["t"]
    assert centred.model == "auto"
    np.testing.assert_allclose(centred.mean, plain.mean)
