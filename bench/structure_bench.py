"""Coherent structures on visible data (issue 19): Russia's monthly trade by partner.

Hierarchy (grouped): for each of the ``--partners`` largest partners of Russia (complete
monthly data, Jan 2006 - Dec 2021, Federal Customs Service) exports ``<p>_x`` and imports
``<p>_m``; the partner total ``<p>`` = exports + imports; ``exports`` and ``imports`` over
the partners; ``all`` = exports + imports. Horizon 12, rolling origins at the ends of
2013 ... 2020. Compared, every level:

- ours: ``forecasting.forecast_hierarchy``'s pieces (``model="auto"`` base forecasts and
  paths on the executor, then every reconciliation method on the same draws);
- the reference: statsforecast ``AutoETS(season_length=12)`` base forecasts reconciled by
  MinT-shrink with normal intervals (hierarchicalforecast's ``MinTrace("mint_shrink")`` +
  ``intervals_method="normality"``). hierarchicalforecast is not installed in the project
  (docs/structure.md says why), so the reference is our implementation of its estimator
  (``forecasting.structure.reconcile``, the same Schafer-Strimmer formula).

Scores: sMAPE (%) and MASE (seasonal naive scale, m = 12) per node and origin, averaged
per level with standard errors over (node, origin); 95% coverage over every step. The
default reconciliation method is chosen on the first four origins (``SELECT``) by mean MASE
over all nodes; the table reports the last four (``REPORT``).

Composition: the partners' shares of their total trade (the four largest and ``other``),
``forecast_shares`` (alr, ``auto``) against naive shares (the last observed shares) by MAE
in share points, and the 95% coverage of the share bounds.

Run: ``make bench-domain`` or ``.venv/bin/python -m bench.structure_bench --domain <folder>``
(a few minutes on two cores). Tables go to stdout and ``var/bench/structure_*.csv``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.base import BaseForecaster
from forecasting.metrics import mase, smape
from forecasting.models.ets import ETS
from forecasting.structure import build_hierarchy, forecast_shares, reconciliation_matrix
from forecasting.structure._hierarchy import Hierarchy
from forecasting.structure._joint import NodeDraws, draw_nodes
from forecasting.structure.hierarchy import reconcile_draws
from forecasting.structure.reconcile import METHODS, shrunk_covariance

FILE = "russia_fcs_trade_by_partner_monthly_2006_2021.csv"
HORIZON = 12
SELECT = ("2013-12", "2014-12", "2015-12", "2016-12")
REPORT = ("2017-12", "2018-12", "2019-12", "2020-12")
Z95 = 1.959963984540054
OUT = Path("var/bench")


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _markdown(table: pd.DataFrame) -> str:
    """A pipe table for docs/structure.md (pandas' own needs an extra package)."""
    frame = table.reset_index()
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def load_trade(domain: Path, n_partners: int) -> pd.DataFrame:
    """Wide monthly frame (PeriodIndex) of ``<p>_x`` / ``<p>_m`` for the largest complete partners."""
    raw = pd.read_csv(domain / FILE)
    raw["ds"] = pd.PeriodIndex.from_fields(year=raw["year"], month=raw["month"], freq="M")
    raw["flow"] = raw["flow_russia"].map({"export": "x", "import": "m"})
    raw["partner"] = raw["partner_en"].str.replace(r"[^A-Za-z]+", "_", regex=True).str.strip("_").str.lower()
    wide = raw.pivot_table(index="ds", columns=["partner", "flow"], values="value_musd", aggfunc="sum")
    complete = wide.notna().all().groupby(level="partner").all()
    size = wide.sum().groupby(level="partner").sum()[complete[complete].index]
    chosen = size.sort_values(ascending=False).index[:n_partners]
    out = pd.DataFrame({f"{p}_{f}": wide[(p, f)] for p in chosen for f in ("x", "m")})
    out.index = pd.PeriodIndex(out.index, freq="M", name="ds")
    return out


def trade_hierarchy(partners: list[str]) -> dict[str, list[str]]:
    """Partner totals, flow totals and the grand total over the partner-by-flow series."""
    tree = {p: [f"{p}_x", f"{p}_m"] for p in partners}
    tree["exports"] = [f"{p}_x" for p in partners]
    tree["imports"] = [f"{p}_m" for p in partners]
    tree["all"] = ["exports", "imports"]
    return tree


def level_of(node: str, partners: list[str]) -> str:
    if node == "all":
        return "all"
    if node in ("exports", "imports"):
        return "flow"
    return "partner" if node in partners else "partner x flow"


def full_history(bottom: pd.DataFrame, tree: Hierarchy) -> pd.DataFrame:
    s = bottom[list(tree.bottom)].to_numpy() @ tree.summing.T
    return pd.DataFrame(s, index=bottom.index, columns=list(tree.nodes))


def reference_forecast(train: pd.DataFrame, tree: Hierarchy) -> pd.DataFrame:
    """AutoETS base forecasts, MinT-shrink reconciliation, normal intervals (per node and step)."""
    from statsforecast.models import AutoETS

    nodes = list(tree.nodes)
    means, sds, resid = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in nodes:
            y = train[n].to_numpy(dtype=float)
            model = AutoETS(season_length=12).fit(y)
            fc = model.predict(HORIZON, level=[95])
            means.append(fc["mean"])
            sds.append((fc["hi-95"] - fc["lo-95"]) / (2 * Z95))
            resid.append(y - np.asarray(model.model_["fitted"]))
    base, sd, residuals = np.column_stack(means), np.column_stack(sds), np.column_stack(resid)
    g = reconciliation_matrix(tree.summing, "mint_shrink", residuals)
    w = shrunk_covariance(residuals)
    corr = w / np.sqrt(np.outer(np.diag(w), np.diag(w)))
    proj = tree.summing @ g
    mean = base @ proj.T
    var = np.stack([np.diag(proj @ (corr * np.outer(sd[h], sd[h])) @ proj.T) for h in range(HORIZON)])
    half = Z95 * np.sqrt(np.maximum(var, 0.0))
    return _long(train.index, nodes, mean, mean - half, mean + half)


def _long(index: pd.PeriodIndex, nodes: list[str], mean: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> pd.DataFrame:
    ds = pd.period_range(index[-1] + 1, periods=HORIZON, freq="M")
    return pd.DataFrame(
        {
            "unique_id": np.repeat(nodes, HORIZON),
            "ds": np.tile(ds, len(nodes)),
            "mean": mean.T.ravel(),
            "lo_95": lo.T.ravel(),
            "hi_95": hi.T.ravel(),
        }
    )


def score(fc: pd.DataFrame, history: pd.DataFrame, cutoff: pd.Period, label: str, partners: list[str]) -> pd.DataFrame:
    rows = []
    for node, part in fc.groupby("unique_id", sort=False):
        actual = history.loc[part["ds"], node].to_numpy()
        insample = history.loc[:cutoff, node].to_numpy()
        inside = (actual >= part["lo_95"].to_numpy()) & (actual <= part["hi_95"].to_numpy())
        rows.append(
            {
                "method": label,
                "cutoff": str(cutoff),
                "node": node,
                "level": level_of(str(node), partners),
                "smape": smape(actual, part["mean"]),
                "mase": mase(actual, part["mean"], insample, 12),
                "cover95": float(inside.mean()),
            }
        )
    return pd.DataFrame(rows)


#: Base models the benches can name beyond the registry: statsforecast's AutoETS search
#: without our seasonality pre-test (the reference's base model, as one of auto's members).
EXTRA_MODELS = {"ets_untested": lambda: ETS(seasonality_test=False)}


def base_model(name: str) -> str | BaseForecaster:
    """A registered model name, or an instance for a name of :data:`EXTRA_MODELS`."""
    return EXTRA_MODELS[name]() if name in EXTRA_MODELS else name


#: Base draws combined from two models (issue 32, second round): ``"<mean>@<spread>"`` takes each
#: node's point forecast and residuals (so the MinT weights) from the first model and the sample
#: paths, re-centred on that point forecast, from the second (``auto``'s calibrated widths).
HYBRIDS = {"ets_untested@auto": ("ets_untested", "auto")}


def hybrid_draws(by_model: dict[str, dict[str, NodeDraws]]) -> dict[str, dict[str, NodeDraws]]:
    """The :data:`HYBRIDS` whose two models were both drawn, keyed like ``by_model``."""
    out = {}
    for name, (centre, spread) in HYBRIDS.items():
        if centre in by_model and spread in by_model:
            out[name] = {
                n: NodeDraws(d.mean, by_model[spread][n].paths, d.residuals, name) for n, d in by_model[centre].items()
            }
    return out


def run_hierarchy(
    bottom: pd.DataFrame, partners: list[str], n_jobs: int, n_paths: int, models: list[str]
) -> pd.DataFrame:
    tree = build_hierarchy(trade_hierarchy(partners))
    history = full_history(bottom, tree)
    scores = []
    for cut in (*SELECT, *REPORT):
        cutoff = pd.Period(cut, freq="M")
        train = history.loc[:cutoff]
        start = time.perf_counter()
        index = pd.period_range(cutoff + 1, periods=HORIZON, freq="M")
        series = {n: train[n] for n in tree.nodes}
        by_model = {m: draw_nodes(series, HORIZON, n_paths, base_model(m), 0, n_jobs) for m in models}
        for model, draws in {**by_model, **hybrid_draws(by_model)}.items():
            for method in METHODS:
                fc = reconcile_draws(tree, draws, method, (95,), index, 0)
                scores.append(score(fc, history, cutoff, f"{model}+{method}", partners))
        scores.append(score(reference_forecast(train, tree), history, cutoff, "AutoETS+MinT-shrink (ref)", partners))
        _say(f"origin {cut}: {time.perf_counter() - start:.0f}s")
    return pd.concat(scores, ignore_index=True)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    def se(x: pd.Series) -> float:
        return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")

    g = scores.groupby(["level", "method"], sort=False)
    return pd.DataFrame(
        {
            "n": g.size(),
            "smape": g["smape"].mean(),
            "smape_se": g["smape"].agg(se),
            "mase": g["mase"].mean(),
            "mase_se": g["mase"].agg(se),
            "cover95": g["cover95"].mean(),
        }
    ).round(3)


def run_composition(bottom: pd.DataFrame, partners: list[str], n_jobs: int, n_paths: int) -> pd.DataFrame:
    totals = pd.DataFrame({p: bottom[f"{p}_x"] + bottom[f"{p}_m"] for p in partners})
    parts = totals[partners[:4]].assign(other=totals[partners[4:]].sum(axis=1))
    shares = parts.div(parts.sum(axis=1), axis=0)
    rows = []
    for cut in REPORT:
        cutoff = pd.Period(cut, freq="M")
        train = shares.loc[:cutoff]
        frame = train.stack().rename("y").reset_index().rename(columns={"level_1": "unique_id"})
        fc = forecast_shares(frame, HORIZON, levels=(95,), n_paths=n_paths, n_jobs=n_jobs)
        for comp, part in fc.groupby("unique_id"):
            actual = shares.loc[part["ds"], comp].to_numpy()
            naive = np.full(HORIZON, train[comp].iloc[-1])
            inside = (actual >= part["lo_95"].to_numpy()) & (actual <= part["hi_95"].to_numpy())
            rows.append(
                {
                    "cutoff": cut,
                    "component": comp,
                    "mae_shares": 100 * float(np.mean(np.abs(actual - part["mean"].to_numpy()))),
                    "mae_naive": 100 * float(np.mean(np.abs(actual - naive))),
                    "cover95": float(inside.mean()),
                    "max_sum_error": float(np.abs(fc.groupby("ds")["mean"].sum() - 1).max()),
                }
            )
    return pd.DataFrame(rows)


def parse_args(doc: str | None, partners: int, paths: int) -> argparse.Namespace:
    """The command line of the structure benchmarks (this one and ``bench.structure_bilateral``)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domain", type=Path, required=True, help="The domain data folder (read only).")
    parser.add_argument("--partners", type=int, default=partners)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--paths", type=int, default=paths)
    parser.add_argument("--models", nargs="+", default=["auto", "ets"], help="Base models of our runs.")
    return parser.parse_args()


def load_partners(domain: Path, n_partners: int) -> tuple[pd.DataFrame, list[str]]:
    """:func:`load_trade` and the partners it kept (said on stdout)."""
    bottom = load_trade(domain, n_partners)
    partners = list(dict.fromkeys(c.rsplit("_", 1)[0] for c in bottom.columns))
    _say(f"partners: {', '.join(partners)}; {bottom.index[0]}..{bottom.index[-1]}")
    return bottom, partners


def main() -> None:
    args = parse_args(__doc__, partners=8, paths=1000)
    bottom, partners = load_partners(args.domain, args.partners)
    scores = run_hierarchy(bottom, partners, args.jobs, args.paths, args.models)
    OUT.mkdir(parents=True, exist_ok=True)
    scores.to_csv(OUT / "structure_scores.csv", index=False)
    select = scores[scores["cutoff"].isin(SELECT)]
    chosen = select.groupby("method")["mase"].mean().sort_values()
    _say("\nSelection origins " + ", ".join(SELECT) + ": mean MASE over all nodes\n" + chosen.round(4).to_string())
    table = summarise(scores[scores["cutoff"].isin(REPORT)])
    table.to_csv(OUT / "structure_table.csv")
    _say("\nReport origins " + ", ".join(REPORT) + "\n" + table.pipe(_markdown))
    comp = run_composition(bottom, partners, args.jobs, args.paths)
    comp.to_csv(OUT / "structure_shares.csv", index=False)
    summary = comp.groupby("component")[["mae_shares", "mae_naive", "cover95"]].mean().round(3)
    _say("\nComposition (share points, report origins)\n" + summary.pipe(_markdown))
    means = comp[["mae_shares", "mae_naive", "cover95"]].mean().round(3).to_dict()
    _say(f"all components: {means}; max |sum of means - 1| = {comp['max_sum_error'].max():.2e}")


if __name__ == "__main__":
    main()
