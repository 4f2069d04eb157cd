"""Fixtures of the lab's tests: a tiny file in the M3 layout (no shared data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def m3_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``m3.csv.gz`` (two yearly and two "other" series) and
    ``m3_published_forecasts.csv.gz`` (THETA and ForecastPro point forecasts)."""
    folder = tmp_path_factory.mktemp("m3")
    rng = np.random.default_rng(3)
    rows, published = [], []
    for sid, kind, start in (("N0001", "YEARLY", 1975), ("N0002", "YEARLY", 1960), ("N0003", "OTHER", 1),
                             ("N0004", "OTHER", 1)):  # fmt: skip
        h = 6 if kind == "YEARLY" else 8
        values = 1000 * np.exp(np.cumsum(rng.normal(0.03, 0.05, 24 + h)))
        for i, value in enumerate(values):
            split = "train" if i < 24 else "test"
            rows.append((sid, "MICRO", kind, 1, h, split, start + i, 1, round(float(value), 2)))
        for method in ("THETA", "ForecastPro"):
            published += [(method, sid, step, float(values[23])) for step in range(1, h + 1)]
    columns = ["series_id", "category", "period_kind", "freq", "h", "split", "year", "period", "value"]
    pd.DataFrame(rows, columns=columns).to_csv(folder / "m3.csv.gz", index=False)
    pd.DataFrame(published, columns=["method", "series_id", "step", "forecast"]).to_csv(
        folder / "m3_published_forecasts.csv.gz", index=False
    )
    return folder
