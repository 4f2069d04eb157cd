"""Choosing ``auto`` on trade series (issue 25): combinations scored from the forecast cache.

Reads the forecasts that ``python -m bench.trade --extra`` cached, and scores, on the
**choosing** origins only (``bench.trade.CHOOSE``):

- every equal-weight combination of 1-5 candidates of the frequency's pool;
- per-series weights from the series' own earlier origins (inverse MASE over the steps whose
  actuals were known at the origin), shrunk toward equal weights by ``lam`` in 0 ... 1;

each as the mean over series of sMAPE and MASE (h = 12 and 18 monthly, 6 annual), and an
OWA-like ratio to today's ``auto`` (mean of the two ratios). The reporting origins are
scored for the best few only, to be read after the choice, never to make it.

Run: ``python -m bench.trade_choose`` (seconds; needs the cache of ``bench.trade --extra``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.trade import CACHE, HORIZON, SCORED, Case, build_cases, load_all, m3_cases, methods_of
from bench.trade_r import R_METHODS
from forecasting.frames import MEAN
from forecasting.metrics import mase, smape

POOLS = {
    12: (
        "m:ets",
        "m:arima",
        "m:theta",
        "m:optimized_theta",
        "m:deseasonalized(ces)",
        "ets",
        "ces",
        "naive2",
        "seasonal_naive",
    ),
    1: ("m:ets", "m:arima", "m:optimized_theta", "theta", "ces", "naive2"),
}
SETS = ("russia_monthly", "imf_annual")
Points = dict[str, dict[str, np.ndarray]]  # case key -> method -> point forecast


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def point_table(cases: Sequence[Case], cache: Path) -> Points:
    """Per case key: method -> point forecast (all stored methods)."""
    out = {}
    for case in cases:
        methods = methods_of(load_all(case, cache))
        out[case.key] = {k: v[MEAN] for k, v in methods.items()}
    return out


def _errors(case: Case, point: np.ndarray) -> tuple[float, float]:
    """sMAPE and MASE averaged over the scored horizons of the case's set."""
    hs = [h for h in SCORED[case.set_name] if len(case.test) >= h]
    train = case.train.to_numpy(dtype=float)
    s = np.mean([smape(case.test[:h], point[:h]) for h in hs])
    m = np.mean([mase(case.test[:h], point[:h], train, case.season_length) for h in hs])
    return float(s), float(m)


def _series_mean(cases: Sequence[Case], values: Sequence[tuple[float, float]]) -> tuple[float, float]:
    frame = pd.DataFrame(values, columns=["smape", "mase"])
    frame["series"] = [c.series_id for c in cases]
    per = frame.groupby("series").mean()
    return float(per["smape"].mean()), float(per["mase"].mean())


def score_combos(cases: Sequence[Case], points: Points, pool: Sequence[str]) -> pd.DataFrame:
    """Every equal-weight combination of 1-5 pool members, with auto and the references."""
    combos: list[tuple[str, ...]] = [(m,) for m in ("auto", "sf_ets", "sf_mean", "sf_arima", "sf_theta")]
    for k in range(1, 6):
        combos.extend(itertools.combinations(pool, k))
    rows = []
    for combo, how in [(c, "mean") for c in combos] + [(c, "median") for c in combos if len(c) >= 3]:
        if not all(all(m in points[c.key] for m in combo) for c in cases):
            continue
        agg = np.median if how == "median" else np.mean
        errs = [_errors(c, agg([points[c.key][m] for m in combo], axis=0)) for c in cases]
        s, m = _series_mean(cases, errs)
        name = " + ".join(combo) if how == "mean" else f"median({', '.join(combo)})"
        rows.append({"combo": name, "k": len(combo), "smape": s, "mase": m})
    out = pd.DataFrame(rows).set_index("combo")
    base = out.loc["auto"]
    out["owa"] = 0.5 * (out["smape"] / base["smape"] + out["mase"] / base["mase"])
    return out.sort_values("owa")


def _past_weights(case: Case, history: Sequence[Case], points: Points, members: Sequence[str]) -> np.ndarray:
    """Inverse mean MASE of each member over the steps of the series' earlier origins that
    were observed by ``case``'s origin (equal weights when there are none)."""
    cut = pd.Period(case.origin, freq=case.train.index.freq)
    errs = []
    for past in history:
        start = pd.Period(past.origin, freq=cut.freq)
        known = min(len(past.test), (cut - start).n)
        if known < 1:
            continue
        train = past.train.to_numpy(dtype=float)
        errs.append([mase(past.test[:known], points[past.key][m][:known], train, past.season_length) for m in members])
    if not errs:
        return np.full(len(members), 1.0 / len(members))
    inv = 1.0 / np.maximum(np.mean(errs, axis=0), 1e-9)
    return np.asarray(inv / inv.sum())


def score_weighted(
    cases: Sequence[Case], all_cases: Sequence[Case], points: Points, members: Sequence[str], lam: float
) -> tuple[float, float]:
    """Combination of ``members`` weighted by each series' past errors, shrunk toward equal by ``1 - lam``."""
    by_series: dict[str, list[Case]] = {}
    for c in sorted(all_cases, key=lambda c: c.origin):
        by_series.setdefault(c.series_id, []).append(c)
    errs = []
    for case in cases:
        history = [c for c in by_series[case.series_id] if c.origin < case.origin]
        w = _past_weights(case, history, points, members)
        w = lam * w + (1 - lam) / len(members)
        point: np.ndarray = np.sum([wi * points[case.key][m] for wi, m in zip(w, members, strict=True)], axis=0)
        errs.append(_errors(case, point))
    return _series_mean(cases, errs)


def per_series(cases: Sequence[Case], points: Points, combo: str) -> pd.DataFrame:
    """sMAPE and MASE per series (mean over its cases) of a combination named as in
    :func:`score_combos` (``a + b`` for the mean, ``median(a, b, c)``)."""
    agg = np.median if combo.startswith("median(") else np.mean
    members = combo.removeprefix("median(").removesuffix(")").replace(", ", " + ").split(" + ")
    frame = pd.DataFrame(
        [_errors(c, agg([points[c.key][m] for m in members], axis=0)) for c in cases], columns=["smape", "mase"]
    )
    frame["series"] = [c.series_id for c in cases]
    return frame.groupby("series").mean()


def compare_to_auto(cases: Sequence[Case], points: Points, combos: Sequence[str]) -> pd.DataFrame:
    """Mean sMAPE and MASE of each combination, and its gap to ``auto`` paired over series with the SE."""
    base = per_series(cases, points, "auto")
    rows = []
    for combo in combos:
        mine = per_series(cases, points, combo)
        gap = mine - base
        n = np.sqrt(len(gap))
        rows.append(
            {"combo": combo, "smape": mine["smape"].mean(), "mase": mine["mase"].mean()}
            | {"d_smape": gap["smape"].mean(), "d_smape_se": gap["smape"].std(ddof=1) / n}
            | {"d_mase": gap["mase"].mean(), "d_mase_se": gap["mase"].std(ddof=1) / n}
        )
    return pd.DataFrame(rows).set_index("combo")


def choose_set(set_name: str, cases: Sequence[Case], cache: Path, top: int) -> list[str]:
    """Print the choosing-origin tables of one set and the reporting figures of the best few."""
    mine = [c for c in cases if c.set_name == set_name]
    season = mine[0].season_length
    points = point_table(mine, cache)
    # Only cases forecast by every method (a run stopped early leaves some out).
    mine = [c for c in mine if all(m in points[c.key] for m in ("auto", "sf_mean", *POOLS[season]))]
    if not mine:
        _say(f"[{set_name}] nothing cached yet: run python -m bench.trade --extra first")
        return []
    choose = [c for c in mine if c.split == "choose"]
    report = [c for c in mine if c.split == "report"]
    table = score_combos(choose, points, POOLS[season])
    _say(f"\n[{set_name}] choosing origins ({len({c.series_id for c in choose})} series, {len(choose)} cases)")
    _say(table.head(top).round(4).to_string())
    _say("gaps to auto on the choosing origins, paired over series (d_*: combination minus auto):")
    _say(compare_to_auto(choose, points, table.index[:top].tolist()).round(4).to_string())
    _say(table.loc[[i for i in ("auto", "sf_ets", "sf_mean") if i in table.index]].round(4).to_string())
    auto_members = tuple(m for m in POOLS[season] if m.startswith("m:"))
    for lam in (0.0, 0.25, 0.5, 0.75, 1.0):
        s, m = score_weighted(choose, mine, points, auto_members, lam)
        text = f"  auto members weighted by own past MASE, lam={lam}: choosing sMAPE {s:.3f} MASE {m:.4f}"
        if report:  # a fixed rule, not a choice: its reporting figures are read after the choice like the rest
            s, m = score_weighted(report, mine, points, auto_members, lam)
            text += f"; reporting sMAPE {s:.3f} MASE {m:.4f}"
        _say(text)
    best = [*table.index[:top].tolist(), "auto", "sf_ets", "sf_mean"]
    _say(f"[{set_name}] reporting origins (read only after choosing):")
    if report:
        _say(compare_to_auto(report, points, list(dict.fromkeys(best))).round(4).to_string())
    with_r_members(set_name, choose, report, points, auto_members, top)
    return [str(i) for i in table.index[:top]]


def with_r_members(
    set_name: str, choose: Sequence[Case], report: Sequence[Case], points: Points, members: Sequence[str], top: int
) -> None:
    """``auto``'s members with R's three (``bench.trade_r``) as candidates: every combination of 1-5,
    chosen on the choosing cases that have R's forecasts, the best few read on the reporting ones."""
    choose = [c for c in choose if all(m in points[c.key] for m in R_METHODS)]
    report = [c for c in report if all(m in points[c.key] for m in R_METHODS)]
    if not choose:
        _say(f"[{set_name}] no R forecasts cached: auto + R members not scored")
        return
    table = score_combos(choose, points, (*members, *R_METHODS))
    _say(f"\n[{set_name}] auto's members and R's, choosing origins with R ({len(choose)} cases):")
    named = ["auto", "sf_mean", *R_METHODS, " + ".join(R_METHODS)]
    _say(compare_to_auto(choose, points, list(dict.fromkeys([*table.index[:top], *named]))).round(4).to_string())
    if report:
        _say(f"[{set_name}] the same on the reporting origins with R ({len(report)} cases), read after choosing:")
        _say(compare_to_auto(report, points, list(dict.fromkeys([*table.index[:3], *named]))).round(4).to_string())


def check_m3(m3: Sequence[Case], combos: Sequence[str], cache: Path) -> None:
    """The chosen combinations on M3's test parts (those whose members were forecast there)."""
    points = point_table(m3, cache)
    mine = [c for c in m3 if "auto" in points[c.key]]
    usable = [
        combo
        for combo in combos
        if all(
            m in points[c.key]
            for c in mine
            for m in combo.removeprefix("median(").removesuffix(")").replace(", ", " + ").split(" + ")
        )
    ]
    if mine and usable:
        _say(f"[{mine[0].set_name}] M3 test parts ({len(mine)} series), the same combinations:")
        _say(compare_to_auto(mine, points, usable).round(4).to_string())


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m bench.trade_choose``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--m3", type=Path, help="m3.csv.gz: also score the chosen combinations on cached M3 cases.")
    args = parser.parse_args(argv)
    cases = build_cases(args.domain, [s for s in SETS if s in HORIZON])
    for set_name in SETS:
        chosen = choose_set(set_name, cases, args.cache, args.top)
        if args.m3 is not None and chosen:
            periods = ["monthly"] if set_name == "russia_monthly" else ["yearly", "other"]
            m3 = m3_cases(args.m3, periods, None)
            for period in periods:
                check_m3([c for c in m3 if c.set_name == f"m3_{period}"], chosen, args.cache)


if __name__ == "__main__":
    main()
