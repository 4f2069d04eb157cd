"""Learn the half-width factors of ``auto``'s intervals (writes forecasting/calibration/auto.json).

Calibration data: the TRAINING parts of the M3 series only. For each series with training
part y (n values) and competition horizon h, the model is fitted on y[:-h] and its
uncalibrated intervals are compared with y[-h:]. The M3 test parts are never read, so the
benchmark's coverage figures are measured on data the factors never saw.

For every (season length, series-length bucket, step ahead, level) cell the factor is the
``level``-th percentile of the ratio |error| / half-width on the side of the error, i.e. the
smallest multiple of the model's own half-width that would have covered ``level`` percent
of the calibration outcomes. Factors are smoothed over neighbouring steps (3-step running
mean) so that a single noisy step does not jump.

Run::

    .venv/bin/python scripts/calibrate_intervals.py --data ../shared/data/m3/m3.csv.gz
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
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
OUT = Path(__file__).resolve().parents[1] / "forecasting" / "calibration" / "auto.json"


def _ratios(chunk: list[M3Series]) -> list[pd.DataFrame]:
    out = []
    for s in chunk:
        h = s.horizon
        train, holdout = s.train.iloc[:-h], s.train.iloc[-h:].to_numpy()
        model = Auto(calibrate=False)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fc = model.fit(train).predict(h, levels=GRID)
        except Exception as exc:  # too short after holding out h, or a failed fit: not used
            logger.info("skip %s: %s", s.series_id, exc)
            continue
        mean = fc[MEAN].to_numpy()
        err = holdout - mean
        frame = pd.DataFrame(
            {"series_id": s.series_id, "m": s.season_length, "n": len(train), "step": np.arange(1, h + 1)}
        )
        for lv in GRID:
            up = fc[hi_col(lv)].to_numpy() - mean
            down = mean - fc[lo_col(lv)].to_numpy()
            half = np.where(err >= 0, up, down)
            frame[f"r{lv}"] = np.abs(err) / np.maximum(half, 1e-12 * (1 + np.abs(mean)))
        out.append(frame)
    return out


def learn(series: list[M3Series], n_jobs: int) -> tuple[WidthCalibration, pd.DataFrame]:
    chunks = [series[i : i + 8] for i in range(0, len(series), 8)]
    frames: list[pd.DataFrame] = []
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        for part in pool.map(_ratios, chunks):
            frames.extend(part)
    ratios = pd.concat(frames, ignore_index=True)
    ratios["bucket"] = np.searchsorted(np.asarray(LENGTH_EDGES), ratios["n"].to_numpy(), side="right")
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
        factors=factors,
        source="learned on the last h points of the M3 training parts; M3 test parts unused",
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    series = load_m3(args.data, sample=args.sample)
    calibration, ratios = learn(series, args.n_jobs)
    args.out.write_text(calibration.to_json() + "\n")
    if args.save_ratios is not None:
        ratios.to_csv(args.save_ratios, index=False)
    logger.warning(
        "wrote %s from %d series in %.0f s", args.out, ratios["series_id"].nunique(), time.perf_counter() - started
    )


if __name__ == "__main__":
    main()
