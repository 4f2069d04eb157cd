"""The M3 competition benchmark: load the data, forecast every series, score as the paper.

Scoring follows the M3 paper (Makridakis & Hibon, 2000) for sMAPE — the mean over all
series and horizons of 200·|y−f|/(|y|+|f|) — and Hyndman & Koehler (2006) for MASE, scaled
by the in-sample MAE of the seasonal naive method with m = frequency (m = 1 for yearly and
other). Coverage is the share of actuals inside each interval over all series and
horizons; MSIS is the M4 mean scaled interval score at 95%, averaged over series.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting.core import forecast
from forecasting.exceptions import InvalidParameterError
from forecasting.executor import Executor, get_executor
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.metrics import interval_scores, scale_mae

__all__ = [
    "COVERAGE_BOUNDS",
    "M3Series",
    "PERIODS",
    "interval_checks",
    "load_m3",
    "load_published",
    "run_m3",
    "score_m3",
]

logger = logging.getLogger(__name__)

PERIODS = ("yearly", "quarterly", "monthly", "other")
_FREQ = {"YEARLY": ("Y", 1), "QUARTERLY": ("Q", 4), "MONTHLY": ("M", 12), "OTHER": ("Y", 1)}
LEVELS = (80, 95)
# The coverage each level must reach on the M3 test parts (issue 3): percent, inclusive.
COVERAGE_BOUNDS: dict[int, tuple[float, float]] = {80: (77.0, 83.0), 95: (93.0, 97.0)}


@dataclass(frozen=True)
class M3Series:
    """One M3 series: its train part as a dated series, the test values and metadata."""

    series_id: str
    period: str
    category: str
    season_length: int
    train: pd.Series
    test: np.ndarray

    @property
    def horizon(self) -> int:
        return len(self.test)


def load_m3(path: str | Path, *, periods: Sequence[str] | None = None, sample: int | None = None) -> list[M3Series]:
    """Read ``m3.csv.gz`` into :class:`M3Series` objects.

    Series without a calendar (all "other" and a few monthly ones, whose years count from
    1) get a regular integer-year ``PeriodIndex`` (monthly ones a monthly index from year 1).

    Parameters
    ----------
    path : path
        The file with columns ``series_id, category, period_kind, freq, h, split, year,
        period, value``.
    periods : sequence of str, optional
        Subset of ``yearly, quarterly, monthly, other``.
    sample : int, optional
        Keep every k-th series of each period so that about ``sample`` series remain in all
        (deterministic, spread over the whole set).
    """
    raw = pd.read_csv(path)
    raw["period_kind"] = raw["period_kind"].str.upper()
    if periods:
        wanted = {p.upper() for p in periods}
        unknown = wanted - set(_FREQ)
        if unknown:
            raise InvalidParameterError(f"unknown period(s) {sorted(unknown)}; choose from {list(PERIODS)}.")
        raw = raw[raw["period_kind"].isin(wanted)]
    ids = raw["series_id"].drop_duplicates().tolist()
    if sample is not None and sample < len(ids):
        step = len(ids) / sample
        ids = [ids[int(i * step)] for i in range(sample)]
        raw = raw[raw["series_id"].isin(set(ids))]
    out = []
    for sid, part in raw.groupby("series_id", sort=False):
        kind = part["period_kind"].iloc[0]
        freq, m = _FREQ[kind]
        train = part[part["split"] == "train"]
        test = part[part["split"] == "test"]["value"].to_numpy(dtype=float)
        year, per = int(train["year"].iloc[0]), int(train["period"].iloc[0])
        if freq == "Y":
            start = pd.Period(year=year, freq="Y")
        elif freq == "Q":
            start = pd.Period(year=year, quarter=per, freq="Q")
        else:
            start = pd.Period(year=year, month=per, freq="M")
        index = pd.period_range(start=start, periods=len(train), freq=freq)
        y = pd.Series(train["value"].to_numpy(dtype=float), index=index, name=str(sid))
        out.append(M3Series(str(sid), kind.lower(), str(part["category"].iloc[0]), m, y, test))
    return out


def load_published(
    path: str | Path, methods: Sequence[str] = ("THETA", "ForecastPro")
) -> dict[str, dict[str, np.ndarray]]:
    """Published competitors' point forecasts: method -> series_id -> array of steps."""
    raw = pd.read_csv(path)
    raw = raw[raw["method"].isin(methods)].sort_values(["method", "series_id", "step"])
    out: dict[str, dict[str, np.ndarray]] = {}
    for (method, sid), part in raw.groupby(["method", "series_id"], sort=False):
        out.setdefault(str(method), {})[str(sid)] = part["forecast"].to_numpy(dtype=float)
    return out


def _forecast_chunk(
    items: list[M3Series], model: str
) -> list[tuple[str, np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]], str]]:
    results = []
    for s in items:
        used = model
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fc = forecast(s.train, s.horizon, levels=LEVELS, model=model)
            except Exception as exc:  # the benchmark records the failure and scores a fallback
                logger.warning("M3 %s: %s failed (%s); scored naive2 instead", s.series_id, model, exc)
                used = "naive2"
                fc = forecast(s.train, s.horizon, levels=LEVELS, model="naive2")
        bounds = {lv: (fc[lo_col(lv)].to_numpy(), fc[hi_col(lv)].to_numpy()) for lv in LEVELS}
        results.append((s.series_id, fc[MEAN].to_numpy(), bounds, used))
    return results


def run_m3(
    series: Sequence[M3Series],
    models: Sequence[str],
    *,
    n_jobs: int = -1,
    chunk_size: int = 8,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Forecast every series with every model, one model at a time on the executor
    (:func:`forecasting.executor.get_executor`: ``n_jobs=1`` in this process).

    Returns
    -------
    forecasts : pd.DataFrame
        ``model, unique_id, period, h, y, mean, lo_80, hi_80, lo_95, hi_95, fitted_model``.
    wall : dict
        Wall-clock seconds per model.
    """
    chunks = [list(series[i : i + chunk_size]) for i in range(0, len(series), chunk_size)]
    by_id = {s.series_id: s for s in series}
    rows: list[pd.DataFrame] = []
    wall: dict[str, float] = {}
    with get_executor(n_jobs, n_tasks=len(chunks)) as executor:
        for model in models:
            start = time.perf_counter()
            results = _run_model(executor, chunks, model, len(series), progress)
            wall[model] = time.perf_counter() - start
            rows.extend(_result_frames(results, by_id, model))
    return pd.concat(rows, ignore_index=True), wall


def _run_model(
    executor: Executor,
    chunks: list[list[M3Series]],
    model: str,
    total: int,
    progress: Callable[[str, int, int], None] | None,
) -> list[Any]:
    """Every chunk of one model on the executor, results in chunk order."""
    done = 0
    by_chunk: dict[int, list[Any]] = {}
    tasks = ((i, partial(_forecast_chunk, chunk, model)) for i, chunk in enumerate(chunks))
    for i, result in executor.stream(tasks):
        by_chunk[i] = result.unwrap()
        done += len(chunks[i])
        if progress:
            progress(model, done, total)
    return [row for i in sorted(by_chunk) for row in by_chunk[i]]


def _result_frames(results: list[Any], by_id: dict[str, M3Series], model: str) -> Iterator[pd.DataFrame]:
    """One long frame per series forecast."""
    for sid, mean, bounds, used in results:
        s = by_id[sid]
        frame = pd.DataFrame(
            {
                "model": model,
                "unique_id": sid,
                "period": s.period,
                "h": np.arange(1, s.horizon + 1),
                "y": s.test,
                MEAN: mean,
                "fitted_model": used,
            }
        )
        for lv in LEVELS:
            frame[lo_col(lv)], frame[hi_col(lv)] = bounds[lv]
        yield frame


def published_frame(series: Sequence[M3Series], published: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """Published forecasts in the same long layout as :func:`run_m3` (point forecasts only)."""
    rows = []
    for method, by_sid in published.items():
        for s in series:
            if s.series_id not in by_sid:
                continue
            rows.append(
                pd.DataFrame(
                    {
                        "model": method,
                        "unique_id": s.series_id,
                        "period": s.period,
                        "h": np.arange(1, s.horizon + 1),
                        "y": s.test,
                        MEAN: by_sid[s.series_id][: s.horizon],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def score_m3(frame: pd.DataFrame, series: Sequence[M3Series]) -> pd.DataFrame:
    """Score a long forecast frame: one row per model.

    Columns, for each period present and ``all``: ``smape_<p>``, ``mase_<p>``, and for
    models with intervals ``cov<L>_<p>`` (percent of actuals inside), ``msis<L>_<p>`` and
    ``width<L>_<p>`` (mean width relative to the series' in-sample mean absolute level)
    for L in 80, 95.
    """
    scale = {s.series_id: scale_mae(s.train.to_numpy(), s.season_length) for s in series}
    level = {s.series_id: float(np.mean(np.abs(s.train.to_numpy()))) for s in series}
    df = frame.copy()
    y, f = df["y"].to_numpy(), df[MEAN].to_numpy()
    denom = np.abs(y) + np.abs(f)
    df["_smape"] = np.divide(200.0 * np.abs(y - f), denom, out=np.zeros_like(denom), where=denom > 0)
    df["_scale"] = df["unique_id"].map(scale)
    df["_ase"] = np.abs(y - f) / df["_scale"]
    has_intervals = hi_col(95) in df.columns
    if has_intervals:
        scale_level = df["unique_id"].map(level)
        for lv in LEVELS:
            lo, hi = df[lo_col(lv)].to_numpy(), df[hi_col(lv)].to_numpy()
            df[f"_in{lv}"] = (y >= lo) & (y <= hi)
            df[f"_is{lv}"] = interval_scores(y, lo, hi, lv) / df["_scale"]
            df[f"_width{lv}"] = (hi - lo) / scale_level
    out = []
    for model, part in df.groupby("model", sort=False):
        row: dict[str, Any] = {"model": model}
        per_series = part.groupby("unique_id", sort=False).agg(period=("period", "first"))
        for period in [*PERIODS, "all"]:
            pts = part if period == "all" else part[part["period"] == period]
            ser = per_series if period == "all" else per_series[per_series["period"] == period]
            if len(pts) == 0:
                continue
            row[f"smape_{period}"] = float(pts["_smape"].mean())
            # Over all points, as the published M3 tables weight it (equal to the series mean within a period).
            row[f"mase_{period}"] = float(pts["_ase"].mean())
            row[f"n_{period}"] = len(ser)
            if has_intervals and pts[hi_col(95)].notna().all():
                for lv in LEVELS:
                    row[f"cov{lv}_{period}"] = 100.0 * float(pts[f"_in{lv}"].mean())
                    # M4: MSIS per series, then averaged over series.
                    row[f"msis{lv}_{period}"] = float(pts.groupby("unique_id")[f"_is{lv}"].mean().mean())
                    row[f"width{lv}_{period}"] = float(pts[f"_width{lv}"].mean())
        out.append(row)
    return pd.DataFrame(out).set_index("model")


def interval_checks(
    scores: pd.DataFrame, model: str = "auto", references: Sequence[str] = ("ets", "arima")
) -> pd.DataFrame:
    """The interval acceptance checks of ``model`` in a :func:`score_m3` table, per period.

    Columns, for each level L of :data:`COVERAGE_BOUNDS`: ``cov<L>`` and ``cov<L>_ok``
    (inside the bounds), and for each reference model present in ``scores``
    ``msis<L>_vs_<ref>`` (``model``'s MSIS minus the reference's; negative is better) and
    ``msis<L>_below_<ref>``. A final column ``ok`` is True when every check of the row holds.
    Periods without interval scores for ``model`` are left out.

    Raises
    ------
    InvalidParameterError
        When ``model`` is not in ``scores``.
    """
    if model not in scores.index:
        raise InvalidParameterError(f"no scores for model {model!r}; got {list(scores.index)}.")
    refs = [r for r in references if r in scores.index and r != model]
    rows = []
    for period in [*PERIODS, "all"]:
        if f"cov80_{period}" not in scores.columns or pd.isna(scores.at[model, f"cov80_{period}"]):
            continue
        row: dict[str, Any] = {"period": period}
        checks = []
        for lv, (low, high) in COVERAGE_BOUNDS.items():
            cov = float(scores.at[model, f"cov{lv}_{period}"])
            row[f"cov{lv}"] = cov
            row[f"cov{lv}_ok"] = low <= cov <= high
            checks.append(row[f"cov{lv}_ok"])
            for ref in refs:
                theirs = scores.at[ref, f"msis{lv}_{period}"] if f"msis{lv}_{period}" in scores.columns else np.nan
                if pd.isna(theirs):
                    continue
                diff = float(scores.at[model, f"msis{lv}_{period}"]) - float(theirs)
                row[f"msis{lv}_vs_{ref}"] = diff
                row[f"msis{lv}_below_{ref}"] = diff < 0
                checks.append(diff < 0)
        row["ok"] = all(checks)
        rows.append(row)
    return pd.DataFrame(rows).set_index("period") if rows else pd.DataFrame()
