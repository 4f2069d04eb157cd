"""Gaps against the forecast of the complete series (issue 32, point 1).

For M3 monthly series with ``share`` of the values removed at random (never the last, a
fixed seed per series), compare the forecast a user gets from the gappy series under
``missing="model"`` with the one ``forecasting.forecast(y_complete)`` (default ``auto``)
gives from the complete copy: sMAPE, MASE, 80%/95% coverage and MSIS 95.

Two sets of origins, so that a method is chosen without the test parts:

- ``--origin choose``: each series' training part without its last 18 months is fitted and
  those 18 months are the outcomes (the M3 test parts are not read);
- ``--origin report``: the whole training part is fitted and the test part scored.

Arms: ``complete`` (auto on the complete copy), ``state_space`` (the state-space ``auto``
through the gaps, what ``missing="model"`` did before), ``imputed`` (``ImputedAuto``: auto on
the smoothed completion) and ``imputed_mi`` (the same with simulated completions widening
the intervals).

    python -m bench.gaps_impute --data ../shared/data/m3/m3.csv.gz --origin choose --sample 300
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import forecasting
from bench.drivers_bench import remove_at_random
from bench.m3 import load_m3
from forecasting import metrics
from forecasting.models.imputed import ImputedAuto
from forecasting.models.statespace import AutoStateSpace

logger = logging.getLogger(__name__)

CHOOSE_HOLDOUT = 18
ARMS = ("complete", "state_space", "imputed", "imputed_mi")


def _model(arm: str, k: int) -> object:
    if arm == "state_space":
        return AutoStateSpace()
    if arm == "imputed":
        return ImputedAuto()
    if arm == "imputed_mi":
        return ImputedAuto(n_imputations=k)
    return "auto"


def score_arm(y: pd.Series, actual: np.ndarray, insample: np.ndarray, arm: str, k: int) -> dict[str, float]:
    """Scores of one arm on one series (NaN when it cannot forecast)."""
    horizon = len(actual)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            missing = "error" if arm == "complete" else "model"
            fc = forecasting.forecast(y, horizon, (80, 95), model=_model(arm, k), missing=missing)  # type: ignore[arg-type]
    except forecasting.ForecastingError as exc:
        logger.warning("%s (%s): %s", y.name, arm, exc)
        return {}
    mean = fc["mean"].to_numpy()
    out = {
        "smape": metrics.smape(actual, mean),
        "mase": metrics.mase(actual, mean, insample, 12),
    }
    for level in (80, 95):
        lo, hi = fc[f"lo_{level}"].to_numpy(), fc[f"hi_{level}"].to_numpy()
        out[f"cov{level}"] = metrics.coverage(actual, lo, hi)
    out["msis95"] = metrics.msis(actual, fc["lo_95"].to_numpy(), fc["hi_95"].to_numpy(), insample, 95, 12)
    return out


def run(path: str, origin: str, sample: int, share: float, seed: int, arms: Sequence[str], k: int) -> pd.DataFrame:
    """One row per series and arm."""
    rows = []
    for i, s in enumerate(load_m3(path, periods=["monthly"], sample=sample)):
        if origin == "choose":
            fit, actual = s.train.iloc[:-CHOOSE_HOLDOUT], s.train.to_numpy()[-CHOOSE_HOLDOUT:]
        else:
            fit, actual = s.train, s.test
        gappy = remove_at_random(fit, share, seed + i)
        insample = fit.to_numpy(dtype=float)
        for arm in arms:
            y = fit if arm == "complete" else gappy
            rows.append(
                {"series": s.series_id, "arm": arm, **score_arm(y.rename(s.series_id), actual, insample, arm, k)}
            )
        if (i + 1) % 25 == 0:
            logger.info("%d series done", i + 1)
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean per arm over the series every arm forecast, and the paired sMAPE difference to ``complete``."""
    wide = table.pivot(index="series", columns="arm", values="smape").dropna()
    keep = table[table["series"].isin(wide.index)]
    out = keep.groupby("arm")[["smape", "mase", "cov80", "cov95", "msis95"]].mean()
    for arm in out.index:
        diff = wide[arm] - wide["complete"] if "complete" in wide else wide[arm] * np.nan
        out.loc[arm, "vs_complete"] = float(diff.mean())
        out.loc[arm, "se"] = float(diff.std(ddof=1) / np.sqrt(len(diff)))
        out.loc[arm, "ratio"] = float(wide[arm].mean() / wide["complete"].mean()) if "complete" in wide else np.nan
    out["n"] = len(wide)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.gaps_impute", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--origin", choices=("choose", "report"), default="choose")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--imputations", type=int, default=5)
    parser.add_argument("--out", default="var/bench")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    table = run(args.data, args.origin, args.sample, args.share, args.seed, args.arms, args.imputations)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    table.to_csv(Path(args.out) / f"gaps_impute_{args.origin}.csv", index=False)
    with pd.option_context("display.width", 200, "display.precision", 3):
        logger.info("M3 monthly, %s origins, %.0f%% removed:\n%s", args.origin, 100 * args.share, summarise(table))
    logger.info("%.0f s wall, %.0f s CPU", time.perf_counter() - start, time.process_time())


if __name__ == "__main__":
    main()
