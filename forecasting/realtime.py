"""Real-time backtests: forecast from each vintage as it was published, score against the latest.

A rolling-origin backtest (:func:`forecasting.backtest`) cuts the *latest* data at earlier
origins, so every origin sees figures revised after it. A real-time backtest instead fits,
at each origin, the series exactly as it had been published by then (its vintage), and
scores the forecasts against the latest figures, which is how a forecaster working at that
date would have been judged [Croushore and Stark 2001].

Vintages are plain ``(label, series)`` pairs, oldest first; where they come from (a store,
files of past releases) is the caller's business.

References
----------
Croushore, D. and Stark, T. (2001). A real-time data set for macroeconomists. Journal of
Econometrics, 105(1), 111-130.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.core import forecast, latest_complete_stretch
from forecasting.exceptions import InsufficientDataError, InvalidParameterError
from forecasting.frames import CUTOFF, DS, MEAN, MODEL, H, Y, hi_col, levels_in, lo_col
from forecasting.metrics import coverage
from forecasting.validation import check_horizon, check_levels

__all__ = ["VINTAGE", "RealtimeBacktest", "pseudo_vintages", "realtime_backtest", "score_realtime"]

logger = logging.getLogger(__name__)

#: Column of the vintage label in a real-time backtest frame.
VINTAGE = "vintage"


@dataclass
class RealtimeBacktest:
    """Result of :func:`realtime_backtest`.

    Attributes
    ----------
    frame : pd.DataFrame
        ``vintage, model, cutoff, ds, h, mean, lo_<L>, hi_<L>..., y``: one row per vintage
        × model × step ahead; ``cutoff`` is the vintage's last observed period, ``y`` the
        latest figure for ``ds`` (NaN when not published yet).
    skipped : list of (str, str)
        Vintage × model pairs not forecast, with the model and the reason (too few
        observations in the latest unbroken stretch of that vintage).
    """

    frame: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)


def realtime_backtest(
    vintages: Sequence[tuple[str, pd.Series]],
    latest: pd.Series,
    horizon: int,
    models: Sequence[str | BaseForecaster] = ("auto",),
    levels: Sequence[int] = (80, 95),
    kind: str = "level",
) -> RealtimeBacktest:
    """Forecast from each vintage as published and attach the latest figures.

    Parameters
    ----------
    vintages : sequence of (str, pd.Series)
        Label and series of each vintage, oldest first: float series on a regular
        ``PeriodIndex`` (NaN for periods not published). Each is fitted on its latest
        unbroken stretch (:func:`forecasting.core.latest_complete_stretch`).
    latest : pd.Series
        The figures to score against (usually the newest vintage), same frequency.
    horizon : int
        Steps ahead from each vintage's last observed period.
    models : sequence of str or BaseForecaster
        Registered names or instances.
    levels : sequence of int
        Interval levels (percent).
    kind : {"level", "share"}
        As in :func:`forecasting.forecast`.

    Returns
    -------
    RealtimeBacktest

    Raises
    ------
    InvalidParameterError
        For a bad ``horizon`` or ``levels``, no vintages, or a vintage whose frequency
        differs from ``latest``.
    """
    horizon = check_horizon(horizon)
    levels = check_levels(levels)
    if not vintages:
        raise InvalidParameterError("realtime_backtest needs at least one vintage; got none.")
    parts: list[pd.DataFrame] = []
    skipped: list[tuple[str, str]] = []
    for label, y in vintages:
        _check_same_frequency(label, y, latest)
        stretch, _ = latest_complete_stretch(y.astype(float))
        for model in models:
            try:
                frame = forecast(stretch, horizon, levels, model=model, kind=kind)
            except InsufficientDataError as exc:
                skipped.append((str(label), f"{_model_name(model)}: {exc}"))
                continue
            parts.append(_rows(frame, str(label), _model_name(model), stretch.index[-1], latest))
    if not parts:
        return RealtimeBacktest(frame=_empty(levels), skipped=skipped)
    return RealtimeBacktest(frame=pd.concat(parts, ignore_index=True), skipped=skipped)


def _check_same_frequency(label: str, y: pd.Series, latest: pd.Series) -> None:
    if getattr(y.index, "freqstr", None) != getattr(latest.index, "freqstr", None):
        raise InvalidParameterError(
            f"vintage {label!r} has frequency {getattr(y.index, 'freqstr', None)!r} but the latest figures "
            f"have {getattr(latest.index, 'freqstr', None)!r}; every vintage must have the same frequency."
        )


def _model_name(model: str | BaseForecaster) -> str:
    return model if isinstance(model, str) else type(model).__name__


def _rows(frame: pd.DataFrame, label: str, model: str, cutoff: pd.Period, latest: pd.Series) -> pd.DataFrame:
    out = frame.reset_index().rename(columns={frame.index.name or "index": DS})
    out.insert(0, VINTAGE, label)
    out.insert(1, MODEL, model)
    out.insert(2, CUTOFF, cutoff)
    out.insert(4, H, np.arange(1, len(out) + 1))
    out[Y] = latest.reindex(pd.PeriodIndex(out[DS])).to_numpy(dtype=float)
    return out


def _empty(levels: Sequence[int]) -> pd.DataFrame:
    columns = [VINTAGE, MODEL, CUTOFF, DS, H, MEAN]
    for level in levels:
        columns += [lo_col(level), hi_col(level)]
    return pd.DataFrame(columns=[*columns, Y])


def score_realtime(frame: pd.DataFrame, *, common: bool = False) -> pd.DataFrame:
    """Errors of a real-time backtest per model and step ahead, over the points already known.

    With ``common``, only the vintages every model forecast count, so models are compared
    on the same origins (a model needing more observations skips the early vintages).

    Returns
    -------
    pd.DataFrame
        ``model, h, n, mae, rmse, mape`` (percent) and ``coverage_<L>`` per level, over rows
        whose latest figure ``y`` is known. ``n`` counts them.
    """
    known = frame[frame[Y].notna()]
    if common:
        n_models = known[MODEL].nunique()
        per_vintage = known.groupby(VINTAGE)[MODEL].nunique()
        known = known[known[VINTAGE].isin(per_vintage[per_vintage == n_models].index)]
    levels = levels_in(list(frame.columns))
    rows = []
    for (model, h), part in known.groupby([MODEL, H], sort=True):
        y, f = part[Y].to_numpy(dtype=float), part[MEAN].to_numpy(dtype=float)
        row: dict[str, object] = {MODEL: model, H: int(h), "n": len(part)}
        row["mae"] = float(np.mean(np.abs(y - f)))
        row["rmse"] = float(np.sqrt(np.mean((y - f) ** 2)))
        with np.errstate(divide="ignore", invalid="ignore"):
            row["mape"] = float(np.mean(np.abs((y - f) / y)) * 100)
        for level in levels:
            row[f"coverage_{level}"] = coverage(y, part[lo_col(level)], part[hi_col(level)])
        rows.append(row)
    return pd.DataFrame(rows)


def pseudo_vintages(vintages: Sequence[tuple[str, pd.Series]], latest: pd.Series) -> list[tuple[str, pd.Series]]:
    """The latest figures cut at each vintage's last observed period ("pseudo real time").

    Comparing :func:`realtime_backtest` on ``vintages`` and on these isolates the effect of
    revisions: both forecast from the same origins, only the figures differ.
    """
    out = []
    for label, y in vintages:
        observed = y.dropna()
        if observed.empty:
            continue
        out.append((label, latest[latest.index <= observed.index[-1]]))
    return out
