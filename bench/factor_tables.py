"""Learning the half-width factor tables of ``auto``'s interval calibration.

The product ships only the learned tables (``forecasting/calibration/auto.json``) and their
lookup (:class:`forecasting.intervals.WidthCalibration`); this module holds the learning
half, used by :mod:`bench.calibrate_intervals`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecasting.intervals import WidthCalibration

__all__ = ["drift_corrections", "learn_factor_tables", "table_keys"]


def table_keys(ratios: pd.DataFrame, layout: WidthCalibration) -> list[str]:
    """The factor-table key of every row (columns ``m``, ``n`` and, where ``layout`` has
    volatility buckets, ``vol``), as ``layout.key`` gives it.

    ``layout`` supplies only the bucket edges (its factors are not used).
    """
    vols = ratios["vol"] if "vol" in ratios else [None] * len(ratios)
    return [
        layout.key(int(m), int(n), None if v is None or not np.isfinite(v) else float(v))
        for m, n, v in zip(ratios["m"], ratios["n"], vols, strict=True)
    ]


def learn_factor_tables(
    ratios: pd.DataFrame,
    layout: WidthCalibration,
    *,
    min_series: int = 30,
    smooth: int = 3,
) -> dict[str, np.ndarray]:
    """Factor tables from calibration ratios.

    Parameters
    ----------
    ratios : DataFrame
        One row per held-out outcome: ``series_id``, ``m`` (season length), ``n`` (length of
        the fit), ``step`` (1-based) and ``r<level>`` = |error| / model half-width on the side
        of the error, for every level of ``layout``; ``vol`` (the fit's :func:`forecasting.intervals.volatility`)
        where ``layout`` splits a season length's tables by volatility.
    layout : WidthCalibration
        The levels and bucket edges to learn for (its factors are not used).

    Returns
    -------
    dict
        Table key (:meth:`WidthCalibration.key`) → array (steps, levels): the level-th
        percentile of the ratios per step (the smallest multiple of the half-width that
        covered ``level`` percent), smoothed by a centred running mean over ``smooth`` steps.
        Cells with fewer than ``min_series`` series are left out (the nearest cell is used at
        forecast time).
    """
    frame = ratios.assign(key=table_keys(ratios, layout))
    tables: dict[str, np.ndarray] = {}
    for key, cell in frame.groupby("key"):
        if cell["series_id"].nunique() < min_series:
            continue
        steps = int(cell["step"].max())
        table = np.empty((steps, len(layout.levels)))
        for j, lv in enumerate(layout.levels):
            per_step = cell.groupby("step")[f"r{lv}"].quantile(lv / 100.0).reindex(range(1, steps + 1))
            table[:, j] = per_step.rolling(smooth, center=True, min_periods=1).mean().to_numpy()
        tables[str(key)] = np.maximum(table, 0.05)
    return tables


def drift_corrections(
    earlier: Mapping[str, np.ndarray],
    ratios: pd.DataFrame,
    layout: WidthCalibration,
) -> dict[str, np.ndarray]:
    """How far factors learned at earlier origins miss on later ones, per table and level.

    ``earlier`` are tables learned from forecasts made further back in the series; ``ratios``
    (same layout as for :func:`learn_factor_tables`) come from later origins. The correction
    for a table and level is the level-th percentile of ``ratio / earlier factor``: the
    multiple of the earlier factors that would have covered ``level`` percent of the later
    outcomes (below 1 when the earlier factors over-widened).
    """
    frame = ratios.assign(key=table_keys(ratios, layout))
    out: dict[str, np.ndarray] = {}
    for key, cell in frame.groupby("key"):
        if key not in earlier:
            continue
        table = np.asarray(earlier[str(key)])
        rows = np.minimum(cell["step"].to_numpy() - 1, table.shape[0] - 1)
        out[str(key)] = np.array(
            [np.quantile(cell[f"r{lv}"].to_numpy() / table[rows, j], lv / 100.0) for j, lv in enumerate(layout.levels)]
        )
    return out
