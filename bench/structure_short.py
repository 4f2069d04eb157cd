"""Reconciliation of short annual structures with gaps (issue 32, point 3): which weighting?

Simulated ``total = x + m`` structures shaped like the bundled ``cn-ru-trade``: annual,
12-24 years, each part a random walk with drift on the log scale, the total observed every
year, the parts with ``gap_share`` of their years missing at random and their last
``ragged`` years unpublished (the total is released first). Every node's base forecast is
the structural model through the gaps (``missing="model"``, as the sample structure); then
each weighting reconciles the same base draws and is scored on the true future values of
every node (MASE against the in-sample naive error of the complete true history, 80%/95%
coverage):

- ``residual_diagonal``: ``mint_shrink``'s fallback before this change (the diagonal of each
  node's in-sample one-step residual variance, from the few periods that have residuals);
- ``wls_step_variance``: each node's own base forecast variance at each step (the new rule);
- ``wls_struct``, ``ols``, ``bottom_up``: the fixed weightings; ``base``: no reconciliation.

    python -m bench.structure_short --structures 120
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.structure import build_hierarchy
from forecasting.structure._joint import couple_paths, draw_nodes
from forecasting.structure.reconcile import reconciliation_matrix, step_variance_matrix

logger = logging.getLogger(__name__)

TREE = {"total": ["x", "m"]}
WEIGHTINGS = ("base", "residual_diagonal", "wls_step_variance", "wls_struct", "ols", "bottom_up")
HORIZON = 3


def simulate(rng: np.random.Generator, gap_share: float, ragged: int) -> tuple[dict[str, pd.Series], pd.DataFrame]:
    """One structure: observed series (with gaps) and the true values over the horizon."""
    n = int(rng.integers(12, 25))
    steps = n + HORIZON
    parts = {}
    for uid in ("x", "m"):
        drift, sd = rng.normal(0.05, 0.04), rng.uniform(0.05, 0.25)
        parts[uid] = float(rng.uniform(20, 80)) * np.exp(np.cumsum(rng.normal(drift, sd, steps)))
    truth = pd.DataFrame(parts, index=pd.period_range("2000", periods=steps, freq="Y"))
    truth["total"] = truth["x"] + truth["m"]
    observed = truth.iloc[:n].copy()
    for uid in ("x", "m"):
        hide = rng.choice(n - ragged, size=round(gap_share * (n - ragged)), replace=False)
        observed.iloc[hide, observed.columns.get_loc(uid)] = np.nan
        observed.iloc[n - ragged :, observed.columns.get_loc(uid)] = np.nan
    return {u: observed[u] for u in ("total", "x", "m")}, truth


def _g(method: str, summing: np.ndarray, residuals: np.ndarray, paths: np.ndarray) -> np.ndarray:
    horizon = paths.shape[1]
    if method == "wls_step_variance":
        return step_variance_matrix(summing, paths)
    if method == "residual_diagonal":
        var = np.nanmean(residuals**2, axis=0)
        w = np.diag(np.where(np.isfinite(var) & (var > 0), var, 1.0))
        g = np.linalg.solve(summing.T @ np.linalg.solve(w, summing), np.linalg.solve(w, summing).T)
        return np.broadcast_to(g, (horizon, *g.shape))
    g = reconciliation_matrix(summing, method, residuals)
    return np.broadcast_to(g, (horizon, *g.shape))


def score_one(seed: int, gap_share: float, ragged: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    series, truth = simulate(rng, gap_share, ragged)
    tree = build_hierarchy(TREE)
    nodes = list(tree.nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        draws = draw_nodes(series, HORIZON, 500, "structural", seed, 1, missing="model")
    base = np.column_stack([draws[n].mean for n in nodes])
    residuals = np.column_stack([draws[n].residuals for n in nodes])
    centred = [draws[n].paths - draws[n].paths.mean(axis=1, keepdims=True) + draws[n].mean[:, None] for n in nodes]
    paths = np.stack(couple_paths(centred, residuals, seed))
    n_obs = len(series["total"])
    rows = []
    for method in WEIGHTINGS:
        if method == "base":
            mean, rec = base, paths
        else:
            g = _g(method, tree.summing, residuals, paths)
            mean = np.einsum("nb,hbm,hm->hn", tree.summing, g, base)
            rec = np.einsum("nb,hbm,mhp->nhp", tree.summing, g, paths)
        for i, node in enumerate(nodes):
            actual = truth[node].to_numpy()[n_obs:]
            history = truth[node].to_numpy()[:n_obs]
            row: dict[str, object] = {"seed": seed, "method": method, "node": node}
            row["mase"] = metrics.mase(actual, mean[:, i], history, 1)
            for level in (80, 95):
                lo = np.quantile(rec[i], 0.5 - level / 200, axis=1)
                hi = np.quantile(rec[i], 0.5 + level / 200, axis=1)
                row[f"cov{level}"] = metrics.coverage(actual, lo, hi)
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.structure_short", description=__doc__.split("\n\n")[0])
    parser.add_argument("--structures", type=int, default=120)
    parser.add_argument("--gap-share", type=float, default=0.4)
    parser.add_argument("--ragged", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    rows = []
    for k in range(args.structures):
        rows.extend(score_one(args.seed + k, args.gap_share, args.ragged))
    table = pd.DataFrame(rows)
    per = table.groupby(["seed", "method"])["mase"].mean().unstack()
    summary = table.groupby("method")[["mase", "cov80", "cov95"]].mean()
    diff = per.sub(per["residual_diagonal"], axis=0)
    summary["vs_residual_diagonal"] = diff.mean()
    summary["se"] = diff.std(ddof=1) / np.sqrt(len(diff))
    by_node = table.pivot_table(index="method", columns="node", values="mase")
    with pd.option_context("display.width", 200, "display.precision", 3):
        logger.info(
            "%d simulated structures, %.0f%% of the parts' years missing, last %d unpublished:\n%s\nMASE by node:\n%s",
            args.structures,
            100 * args.gap_share,
            args.ragged,
            summary.loc[list(WEIGHTINGS)],
            by_node.loc[list(WEIGHTINGS)],
        )
    logger.info("%.0f s wall, %.0f s CPU", time.perf_counter() - start, time.process_time())


if __name__ == "__main__":
    main()
