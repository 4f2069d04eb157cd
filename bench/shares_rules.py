"""Shares, second round (issue 32, point 4): rules that depend on the length of the history.

``bench.shares_bench`` found that on the short member-state compositions (18-30 months) the
12-month mean composition beats ``forecast_shares``, while on the long partner composition
(96-180 months) ``forecast_shares`` beats it. This bench draws ``forecast_shares``' paths once
per (panel, origin) (``simulate_shares``, cached in ``var/bench/shares_paths.pkl``) and scores
rules that move every path toward the recent composition (mean or median of the last 12 or
24 months, closed to sum to 1) by a weight that falls with the years of history ``n / 12``:

    w = 1 up to 3 years, 0 from 6 years on, linear in between (``anchor_weight``)

(each path shifted by ``w * (anchor - forecast mean)``, clipped at 0 and closed, ``anchor_paths``),
which is ``forecast_shares``' default since this measurement (``anchor_weight``,
``anchor_composition``, ``anchor_paths`` and ``ANCHOR_YEARS`` live in
``forecasting.structure.shares``; the paths here are drawn with ``anchor_years=None`` and the
shipped rule is the ``rule_median12`` column), and, for information, constant weights with the
median anchor. The anchor is chosen on the choosing origins of both panels (mean MAE, the two
panels weighted equally) and reported on the reporting origins against the three references,
with paired differences and their standard errors.

    python -m bench.shares_rules --domain ../shared/data/domain
"""

from __future__ import annotations

import argparse
import itertools
import logging
import pickle
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.shares_bench import EU_HORIZON, EU_REPORT, EU_SELECT, member_state_shares, partner_shares
from bench.structure_bench import HORIZON, REPORT, SELECT
from forecasting.structure.shares import anchor_composition, anchor_paths, anchor_weight, simulate_shares
from forecasting.structure.summary import path_bounds

logger = logging.getLogger(__name__)

CACHE = Path("var/bench/shares_paths.pkl")
ANCHORS = ("mean", "median")
WINDOWS = (12, 24)
CONSTANT = (0.25, 0.5, 0.75, 1.0)


def draw_all(domain: Path, n_paths: int, redraw: bool = False) -> list[dict[str, object]]:
    """Per (panel, origin): the training shares, the actual shares and forecast_shares' paths."""
    if CACHE.exists() and not redraw:
        cached: list[dict[str, object]] = pickle.loads(CACHE.read_bytes())
        return cached
    panels: dict[str, tuple[pd.DataFrame, int, tuple[str, ...], tuple[str, ...]]] = {
        "partners": (partner_shares(domain), HORIZON, SELECT, REPORT)
    }
    for name, wide in member_state_shares(domain).items():
        panels[f"eu:{name}"] = (wide, EU_HORIZON, EU_SELECT, EU_REPORT)
    cases = []
    for panel, (wide, horizon, select, report) in panels.items():
        for cut in (*select, *report):
            cutoff = pd.Period(cut, freq="M")
            train = wide.loc[:cutoff]
            if len(wide.loc[cutoff:]) <= horizon:
                continue
            frame = train.stack().rename("y").reset_index().rename(columns={"level_1": "unique_id"})
            sim = simulate_shares(frame, horizon, n_paths=n_paths, anchor_years=None)  # the model's own paths
            actual = wide.loc[sim.index, list(sim.components)].to_numpy()
            cases.append(
                {
                    "panel": panel,
                    "cutoff": cut,
                    "origins": "choosing" if cut in select else "reporting",
                    "train": train[list(sim.components)],
                    "actual": actual,
                    "paths": sim.shares,
                }
            )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(pickle.dumps(cases))
    return cases


def anchor_of(train: pd.DataFrame, kind: str, window: int) -> np.ndarray:
    """The recent composition: mean or median of the last ``window`` months, closed."""
    if kind == "median" and window == 12:
        shipped = anchor_composition(train, 12)  # the library's (never None: no NaN here)
        assert shipped is not None
        return shipped
    recent = train.iloc[-window:]
    got = (recent.median() if kind == "median" else recent.mean()).to_numpy()
    return np.asarray(got / got.sum())


def score_case(case: dict[str, object], anchor: np.ndarray, w: float) -> dict[str, np.ndarray]:
    actual = np.asarray(case["actual"])
    paths = anchor_paths(np.asarray(case["paths"]), anchor, w)
    mean = paths.mean(axis=2)
    bounds = path_bounds(paths, mean, (95,))[95]
    return {
        "mae": 100 * np.abs(actual - mean).mean(axis=0),
        "cov95": ((actual >= bounds[0]) & (actual <= bounds[1])).mean(axis=0),
        "sum_error": np.abs(mean.sum(axis=1) - 1).max(keepdims=True),
        "in_bounds": np.array([bool((bounds[0] >= 0).all() and (bounds[1] <= 1).all())]),
    }


def references(case: dict[str, object]) -> dict[str, np.ndarray]:
    train = case["train"]
    assert isinstance(train, pd.DataFrame)
    actual = np.asarray(case["actual"])
    horizon = actual.shape[0]
    refs = {
        "naive": np.repeat(train.iloc[[-1]].to_numpy(), horizon, axis=0),
        "seasonal_naive": train.iloc[-12:].to_numpy()[:horizon],
        "mean12": np.repeat(train.iloc[-12:].mean().to_numpy()[None, :], horizon, axis=0),
    }
    return {k: 100 * np.abs(actual - v).mean(axis=0) for k, v in refs.items()}


def rule_table(cases: list[dict[str, object]]) -> pd.DataFrame:
    """Per (case, component): the references and every rule's MAE and 95% coverage."""
    rows = []
    for case in cases:
        train = case["train"]
        assert isinstance(train, pd.DataFrame)
        library_w = anchor_weight(len(train), 12)
        rules = {"model": (anchor_of(train, "mean", 12), 0.0)}
        for kind, window in itertools.product(ANCHORS, WINDOWS):
            rules[f"rule_{kind}{window}"] = (anchor_of(train, kind, window), library_w)
        for w in CONSTANT:
            rules[f"w{w}_median12"] = (anchor_of(train, "median", 12), w)
        scored = {name: score_case(case, anchor, w) for name, (anchor, w) in rules.items()}
        refs = references(case)
        for i, comp in enumerate(train.columns):
            row: dict[str, object] = {
                "panel": case["panel"],
                "cutoff": case["cutoff"],
                "origins": case["origins"],
                "n": len(train),
                "weight": library_w,
                "component": comp,
            }
            row.update({f"mae_{k}": float(v[i]) for k, v in refs.items()})
            for name, got in scored.items():
                row[f"mae_{name}"] = float(got["mae"][i])
                row[f"cov95_{name}"] = float(got["cov95"][i])
                row[f"sum_{name}"] = float(got["sum_error"][0])
                row[f"inside_{name}"] = bool(got["in_bounds"][0])
            rows.append(row)
    table = pd.DataFrame(rows)
    table["set"] = np.where(table["panel"] == "partners", "partners", "member_states")
    return table


def choose(table: pd.DataFrame, labels: list[str]) -> pd.Series:
    """Mean choosing-origin MAE of each rule, the two panels weighted equally."""
    choosing = table[table["origins"] == "choosing"]
    per_set = choosing.groupby("set")[[f"mae_{lb}" for lb in labels]].mean()
    return per_set.mean().sort_values()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.shares_rules", description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", type=Path, required=True)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--redraw", action="store_true", help="Draw the paths again (ignore the cache).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    cases = draw_all(args.domain, args.paths, args.redraw)
    logger.info("%d cases drawn in %.0f s", len(cases), time.perf_counter() - start)
    table = rule_table(cases)
    labels = [c.removeprefix("mae_") for c in table.columns if c.startswith("mae_rule_")]
    ranking = choose(table, labels)
    logger.info("library weight rule, anchors on the choosing origins (panels weighted equally):\n%s", ranking.round(4))
    best = ranking.index[0].removeprefix("mae_")
    show = ["naive", "seasonal_naive", "mean12", "model", *labels, *(f"w{w}_median12" for w in CONSTANT)]
    g = table.groupby(["set", "origins"])
    se = g[[f"mae_{k}" for k in show]].agg(lambda x: x.std(ddof=1) / np.sqrt(len(x)))
    with pd.option_context("display.width", 250, "display.precision", 3, "display.max_columns", 40):
        logger.info("MAE means:\n%s\nstandard errors:\n%s", g[[f"mae_{k}" for k in show]].mean().T, se.T)
        logger.info("95%% coverage:\n%s", g[[f"cov95_{k}" for k in ("model", best)]].mean().T)
        for ref in ("mean12", "naive", "seasonal_naive"):
            diff = table[f"mae_{best}"] - table[f"mae_{ref}"]
            d = diff.groupby([table["set"], table["origins"]]).agg(["mean", lambda x: x.std(ddof=1) / np.sqrt(len(x))])
            logger.info("paired difference %s - %s (mean, se):\n%s", best, ref, d)
        logger.info(
            "max |sum - 1| %.2e; every bound in [0, 1]: %s; weights used: %s",
            table[f"sum_{best}"].max(),
            table[f"inside_{best}"].all(),
            table.groupby("set")["weight"].agg(["min", "max"]).to_dict(),
        )
    table.to_csv("var/bench/shares_rules.csv", index=False)
    logger.info("%.0f s wall, %.0f s CPU", time.perf_counter() - start, time.process_time())


if __name__ == "__main__":
    main()
