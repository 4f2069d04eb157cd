"""Learn the half-width factors of ``auto``'s intervals (writes forecasting/calibration/auto.json).

Calibration data: the TRAINING parts of the M3 series only. For each series with training
part y (n values) and competition horizon h, the model is fitted on y[:-h] and its
uncalibrated intervals are compared with y[-h:]. For non-seasonal data (season length 1:
yearly and "other") the origins roll: the model is fitted on y[:-j] for every j = 1..h and
compared with y[-j:], so each step's factor pools up to h different calendar periods instead
of depending on the shocks of one; with a single origin the yearly factors followed the
particular years held out (their step-1 ratio varied from 1.04 to 1.40 between origins).
The M3 test parts are never read, so the benchmark's coverage figures are measured on data
the factors never saw.

For every (season length, series-length bucket, step ahead, level) cell the factor is the
``level``-th percentile of the ratio |error| / half-width on the side of the error, i.e. the
smallest multiple of the model's own half-width that would have covered ``level`` percent
of the calibration outcomes. Factors are smoothed over neighbouring steps (3-step running
mean) so that a single noisy step does not jump.

Run (12 minutes on two cores, 2026-11-28; a full run reproduced the shipped tables exactly before the
short-fit bucket was added, and two runs of ``--season-lengths 1`` gave identical tables after)::

    .venv/bin/python scripts/calibrate_intervals.py --data ../shared/data/m3/m3.csv.gz

``--season-lengths 4`` re-learns only the quarterly tables and keeps the others.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.auto import Auto
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.intervals import WidthCalibration
from forecasting.m3 import M3Series, load_m3

logger = logging.getLogger("calibrate_intervals")

GRID = (50, 60, 70, 80, 90, 95, 99)
# Series-length buckets: under 45 and 45 or more observations. Finer buckets (20, 30, 45, 80)
# were tried: the holdout ratios showed no steady dependence on length, so they were dropped.
LENGTH_EDGES = (45,)
# Non-seasonal data get a bucket for fits of 12 or fewer points: on the yearly holdouts those
# needed about 1.64 (80%) / 2.01 (95%) times the model width, fits of 13-30 points about
# 1.25 / 1.5, so one pooled table over-widened the intervals of longer annual series.
EDGES_BY_SEASON: dict[int, tuple[int, ...]] = {1: (13, 45)}
# Season lengths calibrated from h rolling origins inside the training part instead of one
# origin h values before its end (see the module docstring).
ROLLING_ORIGINS: frozenset[int] = frozenset({1})
OUT = Path(__file__).resolve().parents[1] / "forecasting" / "calibration" / "auto.json"


def _holdout(s: M3Series, j: int, keep: slice) -> pd.DataFrame | None:
    """Fit on the training part minus its last ``j`` values, forecast them, and return the
    ratios of the steps in ``keep`` (None when the fit fails or the series is too short)."""
    train, holdout = s.train.iloc[:-j], s.train.iloc[-j:].to_numpy()
    model = Auto(calibrate=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = model.fit(train).predict(j, levels=GRID)
    except Exception as exc:  # too short after holding out j, or a failed fit: not used
        logger.info("skip %s (origin n-%d): %s", s.series_id, j, exc)
        return None
    mean = fc[MEAN].to_numpy()
    err = holdout - mean
    frame = pd.DataFrame({"series_id": s.series_id, "m": s.season_length, "n": len(train), "step": np.arange(1, j + 1)})
    for lv in GRID:
        up = fc[hi_col(lv)].to_numpy() - mean
        down = mean - fc[lo_col(lv)].to_numpy()
        half = np.where(err >= 0, up, down)
        frame[f"r{lv}"] = np.abs(err) / np.maximum(half, 1e-12 * (1 + np.abs(mean)))
    return frame.iloc[keep]


def _ratios(chunk: list[M3Series]) -> list[pd.DataFrame]:
    out: list[pd.DataFrame] = []
    for s in chunk:
        h = s.horizon
        if s.season_length in ROLLING_ORIGINS:
            # Origins 1..h values before the end of the training part, every step each
            # allows: the factors average over h calendar periods instead of one.
            parts = [_holdout(s, j, slice(0, j)) for j in range(1, h + 1)]
        else:
            parts = [_holdout(s, h, slice(0, h))]
        out.extend(p for p in parts if p is not None)
    return out


def learn(series: list[M3Series], n_jobs: int) -> tuple[WidthCalibration, pd.DataFrame]:
    chunks = [series[i : i + 8] for i in range(0, len(series), 8)]
    frames: list[pd.DataFrame] = []
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        for part in pool.map(_ratios, chunks):
            frames.extend(part)
    ratios = pd.concat(frames, ignore_index=True)
    ratios["bucket"] = [
        int(np.searchsorted(np.asarray(EDGES_BY_SEASON.get(int(m), LENGTH_EDGES)), n, side="right"))
        for m, n in zip(ratios["m"], ratios["n"], strict=True)
    ]
    factors: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for (m, bucket), cell in ratios.groupby(["m", "bucket"]):
        n_series = cell["series_id"].nunique()
        if n_series < 30:  # too few to estimate a 95th percentile per step; nearest bucket is used
            continue
        steps = int(cell["step"].max())
        table = np.empty((steps, len(GRID)))
        for j, lv in enumerate(GRID):
            per_step = cell.groupby("step")[f"r{lv}"].quantile(lv / 100.0).reindex(range(1, steps + 1))
            smooth = per_step.rolling(3, center=True, min_periods=1).mean().to_numpy()
            table[:, j] = smooth
        # Wider levels must not get narrower intervals than narrower ones; factors are
        # applied to widths that already grow with the level, so only enforce positivity.
        factors[f"m{int(m)}_b{int(bucket)}"] = np.maximum(table, 0.05)
        counts[f"m{int(m)}_b{int(bucket)}"] = int(n_series)
    calibration = WidthCalibration(
        levels=GRID,
        length_edges=LENGTH_EDGES,
        edges_by_season=EDGES_BY_SEASON,
        factors=factors,
        source="learned on holdouts inside the M3 training parts; M3 test parts unused",
        meta={"series_per_cell": counts, "script": "scripts/calibrate_intervals.py"},
    )
    return calibration, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/m3/m3.csv.gz"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--save-ratios", type=Path, default=None, help="Also write the ratios (CSV) for inspection.")
    parser.add_argument(
        "--season-lengths",
        type=int,
        nargs="+",
        default=None,
        help="Re-learn only these season lengths (1, 4, 12) and keep the other tables of --out.",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    series = load_m3(args.data, sample=args.sample)
    if args.season_lengths:
        series = [s for s in series if s.season_length in set(args.season_lengths)]
    calibration, ratios = learn(series, args.n_jobs)
    if args.season_lengths and args.out.is_file():
        old = WidthCalibration.from_json(args.out.read_text())
        kept = {k: v for k, v in old.factors.items() if int(k.split("_")[0][1:]) not in set(args.season_lengths)}
        counts = {k: v for k, v in dict(old.meta.get("series_per_cell", {})).items() if k in kept}
        calibration = replace(
            calibration,
            factors={**kept, **calibration.factors},
            meta={**calibration.meta, "series_per_cell": {**counts, **calibration.meta["series_per_cell"]}},
        )
    args.out.write_text(calibration.to_json() + "\n")
    if args.save_ratios is not None:
        ratios.to_csv(args.save_ratios, index=False)
    logger.warning(
        "wrote %s from %d series in %.0f s", args.out, ratios["series_id"].nunique(), time.perf_counter() - started
    )


if __name__ == "__main__":
    main()
