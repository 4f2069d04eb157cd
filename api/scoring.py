"""Score a backtest frame: metrics per model and per window.

This is accuracy bookkeeping on top of :func:`forecasting.backtest`; it lives here until
the library offers an equivalent summary (then this module should call it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from api.schemas import BacktestWindowRead, ModelMetricsRead
from forecasting import metrics as fm
from forecasting.frames import CUTOFF, MEAN, MODEL, Y, hi_col, lo_col

__all__ = ["score_backtest"]


def _clean(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _scaled(numerator: float, insample: np.ndarray, season_length: int, *, squared: bool = False) -> float | None:
    scale = fm.scale_mse(insample, season_length) if squared else fm.scale_mae(insample, season_length)
    # A constant training window has a zero naive error: the scaled metric is undefined.
    if not math.isfinite(scale) or scale <= 0.0:
        return None
    return _clean(math.sqrt(numerator / scale) if squared else numerator / scale)


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return float(np.mean(finite)) if finite else None


def score_backtest(
    frame: pd.DataFrame, y: pd.Series, levels: Sequence[int], season_length: int
) -> tuple[list[ModelMetricsRead], list[BacktestWindowRead]]:
    """Per-window sMAPE, MASE, RMSSE and coverage; per-model means, coverage and MSIS."""
    per_window: list[BacktestWindowRead] = []
    summary: list[ModelMetricsRead] = []
    for model, by_model in frame.groupby(MODEL, sort=False):
        window_scores: list[BacktestWindowRead] = []
        msis_by_level: dict[int, list[float | None]] = {lv: [] for lv in levels}
        for cutoff, part in by_model.groupby(CUTOFF, sort=True):
            actual = part[Y].to_numpy(dtype=float)
            mean = part[MEAN].to_numpy(dtype=float)
            insample = y.loc[:cutoff].to_numpy(dtype=float)
            abs_err = float(np.mean(np.abs(actual - mean)))
            sq_err = float(np.mean((actual - mean) ** 2))
            coverage: dict[str, float | None] = {}
            for lv in levels:
                lo, hi = part[lo_col(lv)].to_numpy(), part[hi_col(lv)].to_numpy()
                coverage[str(lv)] = _clean(fm.coverage(actual, lo, hi))
                a = 1.0 - lv / 100.0
                score = (hi - lo) + (2.0 / a) * ((lo - actual) * (actual < lo) + (actual - hi) * (actual > hi))
                msis_by_level[lv].append(_scaled(float(np.mean(score)), insample, season_length))
            window_scores.append(
                BacktestWindowRead(
                    model=str(model),
                    cutoff=str(cutoff),
                    smape=_clean(fm.smape(actual, mean)),
                    mase=_scaled(abs_err, insample, season_length),
                    rmsse=_scaled(sq_err, insample, season_length, squared=True),
                    coverage=coverage,
                )
            )
        per_window.extend(window_scores)
        all_actual = by_model[Y].to_numpy(dtype=float)
        summary.append(
            ModelMetricsRead(
                model=str(model),
                smape=_mean([w.smape for w in window_scores]),
                mase=_mean([w.mase for w in window_scores]),
                rmsse=_mean([w.rmsse for w in window_scores]),
                coverage={
                    str(lv): _clean(
                        fm.coverage(all_actual, by_model[lo_col(lv)].to_numpy(), by_model[hi_col(lv)].to_numpy())
                    )
                    for lv in levels
                },
                msis={str(lv): _mean(msis_by_level[lv]) for lv in levels},
            )
        )
    return summary, per_window
