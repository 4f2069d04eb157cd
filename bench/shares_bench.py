"""Shares against the simple references (issue 32, point 4): naive, seasonal-naive and 12-month-mean shares.

The partner composition of ``bench.structure_bench`` (Russia's trade with its 4 largest
partners and the rest of the 8, monthly FCS data), horizon 12, choosing origins 2013-2016
and reporting origins 2017-2020. ``forecast_shares`` (``auto`` on log-ratios) is scored with
the three references, and with its forecast moved toward the mean composition of the last
12 months by a weight ``w`` (each path shifted by ``w * (recent mean - forecast mean)``, so the
band keeps its width and every path still sums to 1). ``w`` is chosen on the choosing origins.

    python -m bench.shares_bench --domain ../shared/data/domain
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.structure_bench import HORIZON, REPORT, SELECT, load_partners
from forecasting.structure import forecast_shares

logger = logging.getLogger(__name__)

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def partner_shares(domain: Path) -> pd.DataFrame:
    """Wide monthly shares: the 4 largest partners and 'other' (the next 4)."""
    bottom, partners = load_partners(domain, 8)
    totals = pd.DataFrame({p: bottom[f"{p}_x"] + bottom[f"{p}_m"] for p in partners})
    parts = totals[partners[:4]].assign(other=totals[partners[4:]].sum(axis=1))
    return parts.div(parts.sum(axis=1), axis=0)


def score_origin(shares: pd.DataFrame, cut: str, n_paths: int) -> list[dict[str, object]]:
    cutoff = pd.Period(cut, freq="M")
    train = shares.loc[:cutoff]
    frame = train.stack().rename("y").reset_index().rename(columns={"level_1": "unique_id"})
    fc = forecast_shares(frame, HORIZON, levels=(95,), n_paths=n_paths)
    recent = train.iloc[-12:].mean()
    rows = []
    for comp, part in fc.groupby("unique_id"):
        comp = str(comp)
        actual = shares.loc[part["ds"], comp].to_numpy()
        mean, lo, hi = (part[c].to_numpy() for c in ("mean", "lo_95", "hi_95"))
        refs = {
            "naive": np.full(HORIZON, train[comp].iloc[-1]),
            "seasonal_naive": train[comp].iloc[-12:].to_numpy(),
            "mean12": np.full(HORIZON, recent[comp]),
        }
        row: dict[str, object] = {"cutoff": cut, "component": comp}
        for name, ref in refs.items():
            row[f"mae_{name}"] = 100 * float(np.mean(np.abs(actual - ref)))
        for w in WEIGHTS:
            shift = w * (recent[comp] - mean)
            row[f"mae_w{w}"] = 100 * float(np.mean(np.abs(actual - (mean + shift))))
            inside = (actual >= np.clip(lo + shift, 0, 1)) & (actual <= np.clip(hi + shift, 0, 1))
            row[f"cov95_w{w}"] = float(inside.mean())
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.shares_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", type=Path, required=True)
    parser.add_argument("--paths", type=int, default=500)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    shares = partner_shares(args.domain)
    rows = [r for cut in (*SELECT, *REPORT) for r in score_origin(shares, cut, args.paths)]
    table = pd.DataFrame(rows)
    table["origins"] = np.where(table["cutoff"].isin(SELECT), "choosing", "reporting")
    cols = [c for c in table.columns if c.startswith(("mae_", "cov95_"))]
    summary = table.groupby("origins")[cols].mean().T
    se = table.groupby("origins")[cols].agg(lambda x: x.std(ddof=1) / np.sqrt(len(x))).T
    with pd.option_context("display.width", 200, "display.precision", 3, "display.max_rows", 100):
        logger.info(
            "partner composition, horizon %d, (component, origin) means:\n%s", HORIZON, summary.join(se, rsuffix="_se")
        )
    logger.info("%.0f s wall, %.0f s CPU", time.perf_counter() - start, time.process_time())


if __name__ == "__main__":
    main()
