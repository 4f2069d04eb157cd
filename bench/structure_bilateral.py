"""Bilateral trade structures (issue 19): partner total = exports + imports, one partner at a time.

The check the issue describes on unseen data is a small hierarchy per trade pair (total =
exports + imports) against statsforecast ``AutoETS`` reconciled by MinT-shrink. This runs the
same experiment on Russia's monthly trade with each of its ``--partners`` largest partners
with complete data 2006-2021 (FCS): for every partner and every yearly origin (``SELECT``
then ``REPORT``, as :mod:`bench.structure_bench`), horizon 12,

- ours: ``forecast_hierarchy``'s base draws with each ``--models`` entry, reconciled by
  MinT-shrink (the default method);
- the reference: AutoETS(season_length=12) + MinT-shrink with normal intervals
  (:func:`bench.structure_bench.reference_forecast`).

Scores per level (``total``, ``flow``): sMAPE, MASE (m = 12) with standard errors over
(partner, origin) and 95% coverage. Choose on the SELECT origins; report the REPORT ones.

Run: ``python -m bench.structure_bilateral --domain ../shared/data/domain`` (part of
``make bench-domain``); per-case scores go to ``var/bench/structure_bilateral.csv``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from bench.structure_bench import (
    HORIZON,
    OUT,
    REPORT,
    SELECT,
    _markdown,
    _say,
    full_history,
    load_trade,
    reference_forecast,
    summarise,
)
from forecasting.metrics import mase, smape
from forecasting.structure import build_hierarchy
from forecasting.structure._joint import draw_nodes
from forecasting.structure.hierarchy import reconcile_draws

Row = dict[str, object]


def _score(fc: pd.DataFrame, history: pd.DataFrame, cutoff: pd.Period, label: str, partner: str) -> list[Row]:
    rows = []
    for node, part in fc.groupby("unique_id", sort=False):
        actual = history.loc[part["ds"], node].to_numpy()
        inside = (actual >= part["lo_95"].to_numpy()) & (actual <= part["hi_95"].to_numpy())
        rows.append(
            {
                "method": label,
                "cutoff": str(cutoff),
                "partner": partner,
                "node": node,
                "level": "total" if node == partner else "flow",
                "smape": smape(actual, part["mean"]),
                "mase": mase(actual, part["mean"], history.loc[:cutoff, node].to_numpy(), 12),
                "cover95": float(inside.mean()),
            }
        )
    return rows


def run(bottom: pd.DataFrame, partners: list[str], models: list[str], n_jobs: int, n_paths: int) -> pd.DataFrame:
    rows: list[Row] = []
    for partner in partners:
        start = time.perf_counter()
        tree = build_hierarchy({partner: [f"{partner}_x", f"{partner}_m"]})
        history = full_history(bottom, tree)
        for cut in (*SELECT, *REPORT):
            cutoff = pd.Period(cut, freq="M")
            train = history.loc[:cutoff]
            index = pd.period_range(cutoff + 1, periods=HORIZON, freq="M")
            for model in models:
                draws = draw_nodes({n: train[n] for n in tree.nodes}, HORIZON, n_paths, model, 0, n_jobs)
                fc = reconcile_draws(tree, draws, "mint_shrink", (95,), index, 0)
                rows += _score(fc, history, cutoff, f"{model}+mint_shrink", partner)
            rows += _score(reference_forecast(train, tree), history, cutoff, "AutoETS+MinT-shrink (ref)", partner)
        _say(f"{partner}: {time.perf_counter() - start:.0f}s")
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domain", type=Path, required=True, help="The domain data folder (read only).")
    parser.add_argument("--partners", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--models", nargs="+", default=["auto", "ets"], help="Base models of our runs.")
    args = parser.parse_args()
    bottom = load_trade(args.domain, args.partners)
    partners = list(dict.fromkeys(c.rsplit("_", 1)[0] for c in bottom.columns))
    _say(f"partners: {', '.join(partners)}; {bottom.index[0]}..{bottom.index[-1]}")
    scores = run(bottom, partners, args.models, args.jobs, args.paths)
    OUT.mkdir(parents=True, exist_ok=True)
    scores.to_csv(OUT / "structure_bilateral.csv", index=False)
    for name, origins in (("Selection", SELECT), ("Report", REPORT)):
        table = summarise(scores[scores["cutoff"].isin(origins)])
        _say(f"\n{name} origins {', '.join(origins)}\n" + table.pipe(_markdown))


if __name__ == "__main__":
    main()
