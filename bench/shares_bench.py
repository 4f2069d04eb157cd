"""Shares against the simple references (issue 32, point 4): naive, seasonal-naive and 12-month-mean shares.

The partner composition of ``bench.structure_bench`` (Russia's trade with its 4 largest
partners and the rest of the 8, monthly FCS data), horizon 12, choosing origins 2013-2016
and reporting origins 2017-2020. ``forecast_shares`` (``auto`` on log-ratios, with its default
anchoring of short compositions; ``--no-anchor`` for the model alone) is scored with
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
from forecasting.structure.shares import ANCHOR_YEARS

logger = logging.getLogger(__name__)

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def partner_shares(domain: Path) -> pd.DataFrame:
    """Wide monthly shares: the 4 largest partners and 'other' (the next 4)."""
    bottom, partners = load_partners(domain, 8)
    totals = pd.DataFrame({p: bottom[f"{p}_x"] + bottom[f"{p}_m"] for p in partners})
    parts = totals[partners[:4]].assign(other=totals[partners[4:]].sum(axis=1))
    return parts.div(parts.sum(axis=1), axis=0)


EU_FILE = "eurostat_eu_members_trade_russia_neighbours_monthly_2020_2022.csv"
#: Member-state compositions: 24 months of history at most, so a shorter horizon and later origins.
EU_HORIZON = 6
EU_SELECT = ("2021-06", "2021-09")
EU_REPORT = ("2021-12", "2022-03", "2022-06")


def member_state_shares(domain: Path) -> dict[str, pd.DataFrame]:
    """Per partner and flow: the shares of the 4 largest EU reporters and of the others."""
    raw = pd.read_csv(domain / EU_FILE)
    raw["ds"] = pd.PeriodIndex.from_fields(year=raw["year"], month=raw["month"], freq="M")
    out = {}
    for (partner, flow), g in raw.groupby(["partner", "flow"]):
        wide = g.pivot_table(index="ds", columns="reporter", values="value_eur", aggfunc="sum").fillna(0.0)
        top = list(wide.sum().sort_values(ascending=False).index[:4])
        parts = wide[top].assign(other=wide.drop(columns=top).sum(axis=1))
        parts.columns = [str(c).lower().replace(" ", "_") for c in parts.columns]
        total = parts.sum(axis=1)
        if len(parts) >= 30 and bool((total > 0).all()):
            out[f"{partner}:{flow}".lower()] = parts.div(total, axis=0)
    return out


def score_origin(
    shares: pd.DataFrame,
    cut: str,
    n_paths: int,
    horizon: int = HORIZON,
    panel: str = "partners",
    anchor_years: tuple[float, float] | None = ANCHOR_YEARS,
) -> list[dict[str, object]]:
    cutoff = pd.Period(cut, freq="M")
    train = shares.loc[:cutoff]
    if len(shares.loc[cutoff:]) <= horizon:
        return []
    frame = train.stack().rename("y").reset_index().rename(columns={"level_1": "unique_id"})
    fc = forecast_shares(frame, horizon, levels=(95,), n_paths=n_paths, anchor_years=anchor_years)
    recent = train.iloc[-12:].mean()
    rows = []
    for comp, part in fc.groupby("unique_id"):
        comp = str(comp)
        actual = shares.loc[part["ds"], comp].to_numpy()
        mean, lo, hi = (part[c].to_numpy() for c in ("mean", "lo_95", "hi_95"))
        refs = {
            "naive": np.full(horizon, train[comp].iloc[-1]),
            "seasonal_naive": train[comp].iloc[-12:].to_numpy()[:horizon],
            "mean12": np.full(horizon, recent[comp]),
        }
        row: dict[str, object] = {"panel": panel, "cutoff": cut, "component": comp}
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
    parser.add_argument("--no-anchor", action="store_true", help="forecast_shares(anchor_years=None): the model alone.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    anchor = None if args.no_anchor else ANCHOR_YEARS
    logger.info("forecast_shares anchor_years=%s", anchor)
    shares = partner_shares(args.domain)
    rows = [r for cut in (*SELECT, *REPORT) for r in score_origin(shares, cut, args.paths, anchor_years=anchor)]
    for name, panel in member_state_shares(args.domain).items():
        for cut in (*EU_SELECT, *EU_REPORT):
            rows.extend(score_origin(panel, cut, args.paths, EU_HORIZON, f"eu:{name}", anchor))
    table = pd.DataFrame(rows)
    choosing = table["cutoff"].isin(SELECT + EU_SELECT)
    table["origins"] = np.where(choosing, "choosing", "reporting")
    table["set"] = np.where(table["panel"] == "partners", "partners", "member_states")
    cols = [c for c in table.columns if c.startswith(("mae_", "cov95_"))]
    groups = table.groupby(["set", "origins"])[cols]
    summary = groups.mean().T
    se = groups.agg(lambda x: x.std(ddof=1) / np.sqrt(len(x))).T
    counts = table.groupby(["set", "origins"]).size()
    with pd.option_context("display.width", 250, "display.precision", 3, "display.max_rows", 100):
        logger.info("(component, origin) means; n = %s:\n%s\nstandard errors:\n%s", dict(counts), summary, se)
    Path("var/bench").mkdir(parents=True, exist_ok=True)
    table.to_csv("var/bench/shares_bench.csv", index=False)
    logger.info("%.0f s wall, %.0f s CPU", time.perf_counter() - start, time.process_time())


if __name__ == "__main__":
    main()
