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

import time

import numpy as np
import pandas as pd

from bench.structure_bench import (
    HORIZON,
    OUT,
    REPORT,
    SELECT,
    _markdown,
    _say,
    base_model,
    full_history,
    hybrid_draws,
    load_partners,
    parse_args,
    reference_forecast,
    score,
    summarise,
)
from forecasting.structure import build_hierarchy
from forecasting.structure._joint import draw_nodes
from forecasting.structure.hierarchy import reconcile_draws


def _score(fc: pd.DataFrame, history: pd.DataFrame, cutoff: pd.Period, label: str, partner: str) -> pd.DataFrame:
    """:func:`bench.structure_bench.score`, levels named ``total`` and ``flow``, with the partner."""
    out = score(fc, history, cutoff, label, [partner])
    out["level"] = np.where(out["node"] == partner, "total", "flow")
    return out.assign(partner=partner)


def run(bottom: pd.DataFrame, partners: list[str], models: list[str], n_jobs: int, n_paths: int) -> pd.DataFrame:
    rows: list[pd.DataFrame] = []
    for partner in partners:
        start = time.perf_counter()
        tree = build_hierarchy({partner: [f"{partner}_x", f"{partner}_m"]})
        history = full_history(bottom, tree)
        for cut in (*SELECT, *REPORT):
            cutoff = pd.Period(cut, freq="M")
            train = history.loc[:cutoff]
            index = pd.period_range(cutoff + 1, periods=HORIZON, freq="M")
            series = {n: train[n] for n in tree.nodes}
            by_model = {m: draw_nodes(series, HORIZON, n_paths, base_model(m), 0, n_jobs) for m in models}
            for model, draws in {**by_model, **hybrid_draws(by_model)}.items():
                fc = reconcile_draws(tree, draws, "mint_shrink", (95,), index, 0)
                rows.append(_score(fc, history, cutoff, f"{model}+mint_shrink", partner))
            rows.append(_score(reference_forecast(train, tree), history, cutoff, "AutoETS+MinT-shrink (ref)", partner))
        _say(f"{partner}: {time.perf_counter() - start:.0f}s")
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    args = parse_args(__doc__, partners=12, paths=500)
    bottom, partners = load_partners(args.domain, args.partners)
    scores = run(bottom, partners, args.models, args.jobs, args.paths)
    OUT.mkdir(parents=True, exist_ok=True)
    scores.to_csv(OUT / "structure_bilateral.csv", index=False)
    for name, origins in (("Selection", SELECT), ("Report", REPORT)):
        table = summarise(scores[scores["cutoff"].isin(origins)])
        _say(f"\n{name} origins {', '.join(origins)}\n" + table.pipe(_markdown))


if __name__ == "__main__":
    main()
