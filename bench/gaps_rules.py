"""Which rule should ``auto`` follow under ``missing="model"``? (issue 20, ``docs/drivers.md``)

``auto`` with ``missing="model"`` is :class:`~forecasting.models.statespace.AutoStateSpace`,
a choice between ``regression_arima`` and ``structural``. This script fits, once per series
and per arm (complete / 30% removed at random, the last value kept), every piece the
candidate rules are made of, and scores the rules from those pieces:

- both candidates on the series without its holdout (``AutoStateSpace``'s holdout: one
  season, at most a quarter of the observed values), their MAE on the holdout's observed
  values and how many values it holds;
- both candidates on the whole series (``regression_arima`` at the orders chosen on the
  shortened series, as ``AutoStateSpace`` refits), their forecasts, AICc and CPU times.

Rules (all from the same fits, so their differences are paired):

- ``holdout``: the present rule, the lower holdout MAE;
- ``structural_if_gaps``: ``structural`` when the series has a gap, else ``holdout``;
- ``holdout_min<k>``: ``holdout`` when the holdout holds at least ``k`` observed values,
  else ``structural``;
- ``aicc``: the lower AICc (the two likelihoods are not on the same footing: different
  diffuse burn-in and differencing; measured anyway, as the brief asks);
- ``mean``: the mean of the two forecasts; ``mean_if_gaps``: that when the series has a gap,
  else ``holdout``;
- ``structural``, ``regression_arima``: one candidate always.

Two data sets:

- ``choose``: M3 monthly *training* parts with their last 18 months held out as the test
  (the M3 test parts are not read), series at the middle of each ``load_m3`` sampling
  step (other series than the ``score`` sample). The rule is chosen here.
- ``score``: the ``drivers_bench gaps`` sample (``load_m3(sample=N)``) scored on the M3
  test parts, with the same deletion seeds as ``drivers_bench``: the check of the chosen rule.

Run from the repository root::

    python -m bench.gaps_rules choose --data <m3 folder>/m3.csv.gz --sample 100 --out choose.csv
    python -m bench.gaps_rules score --data <m3 folder>/m3.csv.gz --sample 200 --out score.csv
    python -m bench.gaps_rules report choose.csv score.csv
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from bench.drivers_bench import remove_at_random
from bench.m3 import M3Series, load_m3
from forecasting import metrics
from forecasting.exceptions import ForecastingError
from forecasting.models.statespace import RegressionARIMA, Structural

logger = logging.getLogger(__name__)

CANDIDATES = ("regression_arima", "structural")
PSEUDO_TEST = 18
SHARE, SEED = 0.3, 20


def choose_series(path: str | Path, sample: int) -> list[M3Series]:
    """M3 monthly series other than ``load_m3(sample=...)``'s, training part split 18 from the end."""
    every = load_m3(path, periods=["monthly"])
    step = len(every) / sample
    picked = [every[int(i * step + step / 2)] for i in range(sample)]
    out = []
    for s in picked:
        values = s.train
        out.append(replace(s, train=values.iloc[:-PSEUDO_TEST], test=values.iloc[-PSEUDO_TEST:].to_numpy(dtype=float)))
    return out


def _candidate(name: str, m: int) -> RegressionARIMA | Structural:
    return RegressionARIMA(season_length=m) if name == "regression_arima" else Structural(season_length=m)


def pieces(y: pd.Series, horizon: int, m: int, lean: float | None = None) -> dict[str, object]:
    """Every fit a rule needs on one series (see the module docstring).

    ``lean``: when the series has gaps and less than this share of its holdout is observed,
    only the structural model is fitted (the rules that still need ``regression_arima``
    there are not scored on the row; ``lean_skipped`` marks it).
    """
    observed = int(y.notna().sum())
    hold = max(1, min(max(m, 4), observed // 4))
    actual = y.iloc[-hold:].to_numpy(dtype=float)
    seen = np.isfinite(actual)
    skip = lean is not None and bool(y.isna().any()) and float(seen.mean()) < lean
    row: dict[str, object] = {
        "has_gaps": bool(y.isna().any()),
        "hold": hold,
        "hold_seen": int(seen.sum()),
        "lean_skipped": skip,
    }
    for name in CANDIDATES:
        if skip and name == "regression_arima":
            row.update({f"hold_mae_{name}": np.nan, f"fc_{name}": np.full(horizon, np.nan), f"aicc_{name}": np.nan})
            row.update({f"cpu_hold_{name}": np.nan, f"cpu_full_{name}": np.nan})
            continue
        start = time.process_time()
        order = None
        try:
            short = _candidate(name, m).fit(y.iloc[:-hold])
            fc = short.predict(hold)["mean"].to_numpy()
            row[f"hold_mae_{name}"] = float(np.mean(np.abs(fc[seen] - actual[seen]))) if seen.any() else np.nan
            order = getattr(short, "order_", None)
        except ForecastingError:
            row[f"hold_mae_{name}"] = np.nan
        row[f"cpu_hold_{name}"] = time.process_time() - start
        start = time.process_time()
        full = _candidate(name, m)
        if order is not None:
            full._fixed_order = order  # as AutoStateSpace refits
        try:
            full.fit(y)
            row[f"fc_{name}"] = np.maximum(full.predict(horizon)["mean"].to_numpy(), 0.0)
            row[f"aicc_{name}"] = float(full.result_.aicc)
        except ForecastingError:
            row[f"fc_{name}"] = np.full(horizon, np.nan)
            row[f"aicc_{name}"] = np.nan
        row[f"cpu_full_{name}"] = time.process_time() - start
    return row


def run(
    series: list[M3Series], positions: Sequence[int] | None = None, lean: float | None = None
) -> Iterator[dict[str, object]]:
    """One row per series and arm, with the test values (the series at ``positions``, default
    all; the deletion seed stays ``SEED + position in the sample``, as in ``drivers_bench``)."""
    for i, s in enumerate(series):
        if positions is not None and i not in positions:
            continue
        arms = {"complete": s.train, "gaps": remove_at_random(s.train, SHARE, SEED + i)}
        for arm, y in arms.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row = pieces(y, s.horizon, s.season_length, lean)
            row.update(series=s.series_id, arm=arm, test=s.test)
            yield row
        logger.info("%d/%d %s", i + 1, len(series), s.series_id)


RULE_SHARES = (0.75, 1.0)


def extended_holdout(y: pd.Series, m: int) -> int:
    """The shortest end stretch holding as many observed values as the plain holdout would
    on a complete series (one season, at least 4, at most a quarter of the observed values)."""
    observed = np.flatnonzero(y.notna().to_numpy())
    want = max(1, min(max(m, 4), observed.size // 4))
    return int(len(y) - observed[-want])


def extend(series: list[M3Series]) -> Iterator[dict[str, object]]:
    """The holdout MAEs with :func:`extended_holdout` on the gaps arm (the complete arm's is the plain one)."""
    for i, s in enumerate(series):
        y = remove_at_random(s.train, SHARE, SEED + i)
        hold = extended_holdout(y, s.season_length)
        actual = y.iloc[-hold:].to_numpy(dtype=float)
        seen = np.isfinite(actual)
        row: dict[str, object] = {
            "series": s.series_id,
            "arm": "gaps",
            "hold_ext": hold,
            "hold_ext_seen": int(seen.sum()),
        }
        for name in CANDIDATES:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fc = _candidate(name, s.season_length).fit(y.iloc[:-hold]).predict(hold)["mean"].to_numpy()
                row[f"hold_ext_mae_{name}"] = float(np.mean(np.abs(fc[seen] - actual[seen])))
            except ForecastingError:
                row[f"hold_ext_mae_{name}"] = np.nan
        yield row
        logger.info("%d/%d %s", i + 1, len(series), s.series_id)


def rule_forecasts(row: pd.Series) -> dict[str, np.ndarray]:
    """The forecast each rule makes from one row's pieces."""
    fc = {name: np.asarray(row[f"fc_{name}"], dtype=float) for name in CANDIDATES}
    mae = {name: float(row[f"hold_mae_{name}"]) for name in CANDIDATES}
    usable = {k: v for k, v in mae.items() if np.isfinite(v) and np.all(np.isfinite(fc[k]))}
    holdout = min(usable, key=lambda k: usable[k]) if usable else "structural"
    aicc = {name: float(row[f"aicc_{name}"]) for name in CANDIDATES if np.isfinite(row[f"aicc_{name}"])}
    by_aicc = fc[min(aicc, key=lambda k: aicc[k])] if aicc else fc["structural"]
    if row.get("lean_skipped", False) is True:  # only the structural model was fitted: not scored
        nothing = np.full(len(fc["structural"]), np.nan)
        fc["regression_arima"], holdout, by_aicc = nothing, "regression_arima", nothing
    out = {
        "holdout": fc[holdout],
        "structural_if_gaps": fc["structural"] if row["has_gaps"] else fc[holdout],
        "aicc": by_aicc,
        "mean_if_gaps": np.mean([fc[name] for name in CANDIDATES], axis=0) if row["has_gaps"] else fc[holdout],
        "mean": np.mean(np.vstack([fc[name] for name in CANDIDATES]), axis=0),
        "structural": fc["structural"],
        "regression_arima": fc["regression_arima"],
    }
    for share in RULE_SHARES:
        enough = int(row["hold_seen"]) >= share * int(row["hold"])
        out[f"holdout_seen{int(100 * share)}pct"] = fc[holdout] if enough else fc["structural"]
    if "hold_ext_mae_structural" in row.index:
        ext = {name: float(row[f"hold_ext_mae_{name}"]) for name in CANDIDATES}
        if not row["has_gaps"]:
            ext = mae
        ext = {k: v for k, v in ext.items() if np.isfinite(v) and np.all(np.isfinite(fc[k]))}
        out["holdout_extended"] = fc[min(ext, key=lambda k: ext[k])] if ext else fc["structural"]
    return out


def score(table: pd.DataFrame) -> pd.DataFrame:
    """Per series, arm and rule: the sMAPE on the test values."""
    rows = []
    for _, row in table.iterrows():
        for rule, fc in rule_forecasts(row).items():
            value = metrics.smape(np.asarray(row["test"], dtype=float), fc) if np.all(np.isfinite(fc)) else np.nan
            rows.append({"series": row["series"], "arm": row["arm"], "rule": rule, "smape": value})
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per rule: mean sMAPE of both arms, their ratio, and paired differences with standard errors.

    ``d_complete_vs_holdout`` is the rule's complete-arm sMAPE minus the present rule's
    (``holdout``) and ``d_gaps_vs_structural`` its gaps-arm sMAPE minus ``structural``'s
    (always scored), ``d_gaps`` the gaps arm's minus the complete arm's (both with the same
    rule), each as a mean over series with its standard error (sd / sqrt(n)).
    """
    wide = score(table).pivot_table(index=["series", "rule"], columns="arm", values="smape").reset_index()
    base = wide[wide["rule"] == "holdout"].set_index("series")["complete"]
    base_gaps = wide[wide["rule"] == "structural"].set_index("series")["gaps"]
    out = []
    for rule, part in wide.groupby("rule"):
        part = part.dropna(subset=["complete", "gaps"]).set_index("series")
        d_gap = part["gaps"] - part["complete"]
        d_base = (part["complete"] - base.reindex(part.index)).dropna()
        d_struct = (part["gaps"] - base_gaps.reindex(part.index)).dropna()
        n = len(part)
        out.append(
            {
                "rule": rule,
                "n": n,
                "smape_complete": part["complete"].mean(),
                "smape_gaps": part["gaps"].mean(),
                "ratio": part["gaps"].mean() / part["complete"].mean(),
                "d_gaps": d_gap.mean(),
                "se_d_gaps": d_gap.std(ddof=1) / np.sqrt(n),
                "d_complete_vs_holdout": d_base.mean(),
                "se_d_complete": d_base.std(ddof=1) / np.sqrt(len(d_base)),
                "d_gaps_vs_structural": d_struct.mean(),
                "se_d_gaps_vs_structural": d_struct.std(ddof=1) / np.sqrt(len(d_struct)),
            }
        )
    return pd.DataFrame(out).sort_values("ratio")


def choices(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm: how often the holdout picks ``regression_arima``, how many holdout values it
    sees, and (per series) how often the pick differs between the two arms."""
    frame = table.copy()
    mae = frame[[f"hold_mae_{name}" for name in CANDIDATES]].fillna(np.inf).to_numpy()
    frame["picks_arima"] = mae[:, 0] < mae[:, 1]
    per_arm = frame.groupby("arm").agg(picks_arima=("picks_arima", "mean"), hold_seen=("hold_seen", "mean"))
    wide = frame.pivot_table(index="series", columns="arm", values="picks_arima")
    per_arm["flipped_between_arms"] = float((wide["complete"] != wide["gaps"]).mean())
    return per_arm


def cpu_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean CPU seconds per series and arm: each fit, and the present rule's (both holdout fits and one refit)."""
    cols = [c for c in table.columns if c.startswith("cpu_")]
    return table.groupby("arm")[cols].mean()


def _save(rows: list[dict[str, object]], path: str) -> None:
    frame = pd.DataFrame(rows)
    for col in ["test"] + [f"fc_{name}" for name in CANDIDATES]:
        frame[col] = frame[col].map(lambda a: " ".join(f"{v:.6g}" for v in np.asarray(a, dtype=float)))
    frame.to_csv(path, index=False)


def load_table(path: str) -> pd.DataFrame:
    """A table written by ``choose``/``score`` back with its arrays."""
    frame = pd.read_csv(path)
    for col in ["test"] + [f"fc_{name}" for name in CANDIDATES]:
        frame[col] = frame[col].map(lambda s: np.array([float(v) for v in str(s).split()]))
    return frame


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.gaps_rules", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("choose", "score", "extend-choose", "extend-score"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--data", required=True)
        cmd.add_argument("--sample", type=int, default=100)
        cmd.add_argument("--out", required=True)
        cmd.add_argument("--positions", type=int, nargs="*", default=None, help="positions in the sample to run")
        cmd.add_argument("--lean", type=float, default=None, help="see pieces()")
    rep = sub.add_parser("report")
    rep.add_argument("tables", nargs="+")
    rep.add_argument("--concat", action="store_true", help="the tables are parts of one run")
    rep.add_argument("--extended", nargs="*", default=[], help="extend-* tables, one per table, same order")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    pd.set_option("display.width", 200)
    if args.command == "report":
        parts = [load_table(path) for path in args.tables]
        named = (
            [("+".join(args.tables), pd.concat(parts))] if args.concat else list(zip(args.tables, parts, strict=True))
        )
        for k, (path, table) in enumerate(named):
            if k < len(args.extended):
                extra = pd.read_csv(args.extended[k])
                table = table.merge(extra, on=["series", "arm"], how="left")
            logger.info("%s (%d series)\n%s", path, table["series"].nunique(), summary(table).round(3).to_string())
            logger.info("holdout choice\n%s", choices(table).round(3).to_string())
            logger.info("CPU s per fit\n%s", cpu_summary(table).round(2).to_string())
        return
    if args.command.endswith("choose"):
        series = choose_series(args.data, args.sample)
    else:
        series = load_m3(args.data, periods=["monthly"], sample=args.sample)
    if args.command.startswith("extend"):
        extended = list(extend(series))
        pd.DataFrame(extended).to_csv(args.out, index=False)
        return
    rows: list[dict[str, object]] = []
    for row in run(series, args.positions, args.lean):
        rows.append(row)
        _save(rows, args.out)


if __name__ == "__main__":
    main()
