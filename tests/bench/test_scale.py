"""The scale benchmark's panel and runner, on a tiny monthly file in the M3 layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.scale import ScaleRun, make_panel, ratios, run_scale


@pytest.fixture(scope="module")
def monthly_m3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    rows = []
    for k, n_obs in enumerate((48, 60, 72)):
        values = 500 * np.exp(np.cumsum(rng.normal(0.01, 0.03, n_obs + 18)))
        for i, value in enumerate(values):
            split = "train" if i < n_obs else "test"
            rows.append((f"N{k:04d}", "MICRO", "MONTHLY", 12, 18, split, 1990 + i // 12, 1 + i % 12, round(value, 2)))
    columns = ["series_id", "category", "period_kind", "freq", "h", "split", "year", "period", "value"]
    path = tmp_path_factory.mktemp("m3") / "m3.csv.gz"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_panel_is_seeded_aligned_and_long_enough(monthly_m3: Path) -> None:
    panel = make_panel(monthly_m3, 7, seed=1)
    assert panel["unique_id"].nunique() == 7
    pd.testing.assert_frame_equal(panel, make_panel(monthly_m3, 7, seed=1))
    assert not panel.equals(make_panel(monthly_m3, 7, seed=2))
    ends = panel.groupby("unique_id")["ds"].max()
    assert set(ends) == {pd.Period("2024-12", freq="M")}
    assert panel.groupby("unique_id").size().min() >= 36
    assert (panel["y"] > 0).all()


def test_runner_times_every_backend_and_reports_ratios(monthly_m3: Path) -> None:
    panel = make_panel(monthly_m3, 4, seed=0)
    runs = run_scale(panel, ["naive"], ["one", "pool"], workers=2, client=None)
    assert [(r.backend, r.cores, r.n_forecast) for r in runs] == [("one", 1, 4), ("pool", 2, 4)]
    assert all(r.seconds > 0 and r.series_per_s_per_core > 0 and r.series_per_cpu_s > 0 for r in runs)
    pool = runs[1]
    dask = ScaleRun(4, "naive", "dask", 2, 1.0, pool.series_per_s_per_core / 2, pool.series_per_cpu_s * 2, 0.0, 0.0, 4)
    assert ratios([*runs, dask]) == ["N=4 naive: dask / pool per core = 0.50 (wall), 2.00 (CPU)"]


def test_dask_defaults_restore_dask_own_values_for_every_setting_tradecast_changes() -> None:
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")  # loads distributed's defaults into dask.config
    from bench.scale import DASK_DEFAULTS
    from forecasting.executor import LOCAL_CLUSTER_CONFIG

    assert set(DASK_DEFAULTS) == set(LOCAL_CLUSTER_CONFIG)
    assert {key: dask.config.get(key) for key in DASK_DEFAULTS} == DASK_DEFAULTS
    assert all(LOCAL_CLUSTER_CONFIG[key] != value for key, value in DASK_DEFAULTS.items())
