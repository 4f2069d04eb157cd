"""Accuracy on trade series (issue 25): ``auto`` against statsforecast's automatic models.

Three sets, read where they lie (``--domain``, the Makefile's ``DOMAIN_DIR``):

- ``russia_monthly``: Russia's monthly exports to and imports from each partner, Jan 2006 -
  Dec 2021 (Federal Customs Service, ``russia_fcs_trade_by_partner_monthly_2006_2021.csv``).
  A partner is kept only if both flows have all 192 months and each flow's median month is at
  least USD 50 million (drops Kazakhstan for gaps, Azerbaijan and Indonesia for size: 26
  partners, 52 series). Origins: each December 2012 ... 2020, horizon 18 (h = 12 scored at
  every origin, h = 18 where 18 months of actuals exist, i.e. up to 2019-12).
- ``imf_annual``: IMF Direction of Trade annual exports and imports between Brazil, China,
  India, Mexico, Russia and Uruguay, 1994-2020. A series is kept when it has every year and
  no value above USD 1e12 (the file's corrupt 1992-1996 India values). Origins 2004 ... 2014,
  horizon 6.
- ``eu_russia_2022`` (stress set, reported apart, never used to choose): Eurostat monthly
  exports to and imports from Russia of each EU member with all 35 months (Jan 2020 - Nov
  2022) and a median month of at least EUR 10 million, plus the sum over every member with all
  35 months; one origin, 2021-12,
  horizon 11 (the war and the sanctions are in the test part).

Origins are split before any result was seen: monthly 2012-2015 and annual 2004-2009 choose,
monthly 2016-2020 and annual 2010-2014 report (``CHOOSE`` / ``REPORT``).

Methods, all on the same cases in the same run: ``auto`` (and each of its members alone,
``m:<member>``), statsforecast ``AutoETS``, ``AutoARIMA``, ``AutoTheta`` with their
defaults (``sf_ets``, ``sf_arima``, ``sf_theta``) and their mean (``sf_mean``: mean of the
three point forecasts, bounds averaged), plus the extra candidates of ``EXTRA``; and, when
``Rscript`` is installed, R's ``forecast`` package (``r_ets``, ``r_arima``, ``r_theta`` and their
mean ``r_mean``: :mod:`bench.trade_r`; ``--no-r`` skips them). Every
forecast (mean, 80% and 95% bounds) is cached per (series, origin, method) in
``var/bench/trade_cache/`` so that scoring combinations (``bench.trade_choose``) costs no
refit. Scores: sMAPE (%), MASE (seasonal naive scale, m = 12 monthly), 80/95% coverage and
MSIS (95%), per series averaged over its origins, then mean and standard error over series.

Run: ``make bench-trade`` or ``python -m bench.trade --domain <folder> [--n-jobs 2]``.
"""

from __future__ import annotations

import argparse
import pickle
import re
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from bench.trade_r import R_METHODS, forget_r, load_r_cached, run_r
from forecasting.auto import Auto
from forecasting.executor import get_executor
from forecasting.frames import MEAN, hi_col, lo_col
from forecasting.metrics import coverage, mase, msis, smape
from forecasting.models.catalog import build_member, member_label

RUSSIA_FILE = "russia_fcs_trade_by_partner_monthly_2006_2021.csv"
IMF_FILE = "imf_dots_annual_bra_chn_ind_mex_rus_ury_1948_2020.csv"
EU_FILE = "eurostat_eu_members_trade_russia_neighbours_monthly_2020_2022.csv"
LEVELS = (80, 95)
CACHE = Path("var/bench/trade_cache")
OUT = Path("var/bench")

#: Origins per set: the first group chooses, the second reports (fixed before any result).
CHOOSE = {
    "russia_monthly": tuple(f"{y}-12" for y in range(2012, 2016)),
    "imf_annual": tuple(str(y) for y in range(2004, 2010)),
}
REPORT = {
    "russia_monthly": tuple(f"{y}-12" for y in range(2016, 2021)),
    "imf_annual": tuple(str(y) for y in range(2010, 2015)),
    "eu_russia_2022": ("2021-12",),
}
#: Forecast horizon per set, and the horizons scored (a shorter one on the first steps).
HORIZON = {"russia_monthly": 18, "imf_annual": 6, "eu_russia_2022": 11}
SCORED = {"russia_monthly": (12, 18), "imf_annual": (6,), "eu_russia_2022": (11,)}
# The M3 check (``--m3``): the same methods on M3's test parts, paired with the trade sets.
SCORED |= {"m3_yearly": (6,), "m3_quarterly": (8,), "m3_monthly": (18,), "m3_other": (8,)}
REFERENCES = ("sf_ets", "sf_arima", "sf_theta")
#: Single models forecast besides auto's members, as candidates for combinations.
EXTRA = ("ets", "ces", "optimized_theta", "theta", "seasonal_naive")
#: Every reference ``auto`` is compared with (R's when ``Rscript`` is installed).
ALL_REFERENCES = (*REFERENCES, "sf_mean", *R_METHODS, "r_mean")


@dataclass(frozen=True)
class Case:
    """One forecast: a series cut at an origin."""

    set_name: str
    series_id: str
    origin: str
    train: pd.Series
    test: np.ndarray
    horizon: int
    season_length: int

    @property
    def key(self) -> str:
        return f"{self.set_name}/{self.series_id}__{self.origin}"

    @property
    def split(self) -> str:
        return "choose" if self.origin in CHOOSE.get(self.set_name, ()) else "report"


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _slug(text: str) -> str:
    """``"Korea, Rep. (South)"`` -> ``"korea_rep"``."""
    return re.sub(r"[^A-Za-z]+", "_", re.sub(r"\(.*?\)", "", text)).strip("_").lower()


def load_russia_monthly(domain: Path, min_median: float = 50.0) -> dict[str, pd.Series]:
    """Partner-by-flow monthly series (USD million) of the partners kept by the module's rule."""
    raw = pd.read_csv(domain / RUSSIA_FILE)
    raw["ds"] = pd.PeriodIndex.from_fields(year=raw["year"], month=raw["month"], freq="M")
    wide = raw.pivot_table(index="ds", columns=["partner_en", "flow_russia"], values="value_musd", aggfunc="sum")
    wide = wide.reindex(pd.period_range("2006-01", "2021-12", freq="M"))
    complete = wide.notna().all().groupby(level=0).all()
    big = (wide.median() >= min_median).groupby(level=0).all()
    kept = [p for p in complete.index if complete[p] and big[p]]
    out = {}
    for partner in kept:
        for flow in ("export", "import"):
            sid = f"{_slug(partner)}_{flow[0]}"
            out[sid] = pd.Series(wide[(partner, flow)].to_numpy(dtype=float), index=wide.index, name=sid)
    return out


def load_imf_annual(domain: Path, first: int = 1994, last: int = 2020) -> dict[str, pd.Series]:
    """IMF DOTS annual bilateral exports/imports (USD billion) kept by the module's rule."""
    raw = pd.read_csv(domain / IMF_FILE)
    years = [str(y) for y in range(first, last + 1)]
    out = {}
    index = pd.period_range(str(first), str(last), freq="Y")
    for _, row in raw.iterrows():
        values = row[years].to_numpy(dtype=float)
        if np.isnan(values).any() or (values <= 0).any() or (values > 1e12).any():
            continue
        flow = "x" if row["Indicator Code"].startswith("TX") else "m"
        sid = f"{_slug(row['Country Name'])}_{flow}_{_slug(row['Counterpart Country Name'])}"
        out[sid] = pd.Series(values / 1e9, index=index, name=sid)
    return out


def load_eu_russia(domain: Path, min_median: float = 1e7) -> dict[str, pd.Series]:
    """EU members' monthly trade with Russia (EUR million), kept by the module's rule, plus the EU sum."""
    raw = pd.read_csv(domain / EU_FILE)
    raw = raw[raw["partner"].str.startswith("Russia")]
    raw = raw.assign(ds=pd.PeriodIndex.from_fields(year=raw["year"], month=raw["month"], freq="M"))
    wide = raw.pivot_table(index="ds", columns=["reporter", "flow"], values="value_eur", aggfunc="sum")
    wide = wide.reindex(pd.period_range("2020-01", "2022-11", freq="M"))
    out = {}
    for flow in ("EXPORT", "IMPORT"):
        part = wide.xs(flow, axis=1, level="flow")
        # The sum over the members with every month (a member missing a month would dip it).
        complete = part.loc[:, part.notna().all()]
        out[f"eu_sum_{flow[0].lower()}"] = pd.Series(complete.sum(axis=1).to_numpy() / 1e6, index=wide.index)
        for reporter in part.columns:
            col = part[reporter]
            if col.notna().all() and col.median() >= min_median:
                out[f"{_slug(reporter)}_{flow[0].lower()}"] = pd.Series(col.to_numpy() / 1e6, index=wide.index)
    return {k: v.rename(k) for k, v in out.items()}


def _cut(set_name: str, sid: str, y: pd.Series, origin: str, horizon: int, season: int) -> Case | None:
    cut = pd.Period(origin, freq=y.index.freq)
    train, test = y[y.index <= cut], y[y.index > cut].to_numpy()[:horizon]
    if len(test) < min(SCORED[set_name]) or len(train) < 2 * season:
        return None
    return Case(set_name, sid, origin, train, test, horizon, season)


def build_cases(domain: Path, sets: Sequence[str] = tuple(HORIZON)) -> list[Case]:
    """Every (series, origin) case of the chosen sets."""
    loaders: dict[str, Callable[[Path], dict[str, pd.Series]]] = {
        "russia_monthly": load_russia_monthly,
        "imf_annual": load_imf_annual,
        "eu_russia_2022": load_eu_russia,
    }
    cases = []
    for set_name in sets:
        season = 1 if set_name == "imf_annual" else 12
        origins = CHOOSE.get(set_name, ()) + REPORT[set_name]
        for sid, y in loaders[set_name](domain).items():
            for origin in origins:
                case = _cut(set_name, sid, y, origin, HORIZON[set_name], season)
                if case is not None:
                    cases.append(case)
    return cases


def m3_cases(path: Path, periods: Sequence[str], sample: int | None) -> list[Case]:
    """M3 series as cases (origin ``test``: the train part against the test part)."""
    from bench.m3 import load_m3

    return [
        Case(f"m3_{s.period}", s.series_id, "test", s.train, s.test, s.horizon, s.season_length)
        for s in load_m3(path, periods=periods, sample=sample)
    ]


# ---------------------------------------------------------------------------- forecasting
Forecast = dict[str, np.ndarray]  # mean, lo_80, hi_80, lo_95, hi_95


def _frame_to_forecast(frame: pd.DataFrame) -> Forecast:
    out = {MEAN: frame[MEAN].to_numpy(dtype=float)}
    for lv in LEVELS:
        out[lo_col(lv)] = frame[lo_col(lv)].to_numpy(dtype=float)
        out[hi_col(lv)] = frame[hi_col(lv)].to_numpy(dtype=float)
    return out


def _statsforecast(name: str, case: Case) -> Forecast:
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    cls = {"sf_ets": AutoETS, "sf_arima": AutoARIMA, "sf_theta": AutoTheta}[name]
    fc = (
        cls(season_length=case.season_length)
        .fit(case.train.to_numpy(dtype=float))
        .predict(case.horizon, level=list(LEVELS))
    )
    out = {MEAN: np.asarray(fc["mean"], dtype=float)}
    for lv in LEVELS:
        out[lo_col(lv)] = np.asarray(fc[f"lo-{lv}"], dtype=float)
        out[hi_col(lv)] = np.asarray(fc[f"hi-{lv}"], dtype=float)
    return out


def _auto(case: Case) -> dict[str, Forecast]:
    """``auto``'s own forecast and each fitted member's, from one fit."""
    model = Auto().fit(case.train)
    out = {"auto": _frame_to_forecast(model.predict(case.horizon, levels=LEVELS))}
    for _, member in model.members_:
        out[f"m:{member_label(member)}"] = _frame_to_forecast(member.predict(case.horizon, levels=LEVELS))
    return out


def _forecast_one(name: str, case: Case) -> dict[str, Forecast]:
    if name == "auto":
        return _auto(case)
    if name in REFERENCES:
        return {name: _statsforecast(name, case)}
    _, model = build_member(name)
    return {name: _frame_to_forecast(model.fit(case.train).predict(case.horizon, levels=LEVELS))}


def _cache_path(case: Case, cache: Path) -> Path:
    return cache / f"{case.key}.pkl"


def load_cached(case: Case, cache: Path = CACHE) -> dict[str, Forecast]:
    """The cached forecasts of one case (empty when none)."""
    path = _cache_path(case, cache)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return dict(pickle.load(fh))


def load_all(case: Case, cache: Path = CACHE) -> dict[str, Forecast]:
    """Every cached forecast of one case: the Python methods' and R's (``bench.trade_r``)."""
    return load_cached(case, cache) | load_r_cached(case, cache)


def forecast_case(case: Case, names: Sequence[str], cache: Path = CACHE) -> tuple[str, list[str]]:
    """Forecast ``case`` with every method in ``names`` not yet cached; store them. Returns failures."""
    stored = load_cached(case, cache)
    failed = []
    for name in names:
        if name in stored or f"failed:{name}" in stored:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                stored.update(_forecast_one(name, case))
            except Exception:  # the benchmark records the failure and scores naive2 instead
                stored[f"failed:{name}"] = {}
                failed.append(name)
    path = _cache_path(case, cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(stored, fh)
    tmp.replace(path)
    return case.key, failed


def forget(cases: Sequence[Case], names: Sequence[str], cache: Path = CACHE) -> None:
    """Drop the cached forecasts of ``names`` (``auto`` also drops its members ``m:*``)."""
    forget_r(cases, [n for n in names if n in R_METHODS], cache)
    for case in cases:
        stored = load_cached(case, cache)
        drop = [k for k in stored if k.removeprefix("failed:") in names or ("auto" in names and k.startswith("m:"))]
        if drop:
            for k in drop:
                del stored[k]
            with _cache_path(case, cache).open("wb") as fh:
                pickle.dump(stored, fh)


def _is_done(case: Case, names: Sequence[str], cache: Path) -> bool:
    stored = load_cached(case, cache)
    return all(n in stored or f"failed:{n}" in stored for n in names)


def run_cases(cases: Sequence[Case], names: Sequence[str], n_jobs: int, cache: Path = CACHE) -> float:
    """Forecast every case not yet cached on the project executor; returns wall seconds."""
    todo = [c for c in cases if not _is_done(c, names, cache)]
    # A fixed shuffle: a run stopped early leaves every set, series and origin about equally covered.
    todo = [todo[i] for i in np.random.default_rng(0).permutation(len(todo))]
    _say(f"{len(cases)} cases, {len(todo)} to forecast with {', '.join(names)}")
    started = time.perf_counter()
    if not todo:
        return 0.0
    with get_executor(n_jobs, n_tasks=len(todo)) as executor:
        tasks = ((i, partial(forecast_case, case, tuple(names), cache)) for i, case in enumerate(todo))
        for done, (_, result) in enumerate(executor.stream(tasks), start=1):
            key, failed = result.unwrap()
            if failed:
                _say(f"  {key}: {', '.join(failed)} failed")
            if done % 50 == 0 or done == len(todo):
                _say(f"  {done}/{len(todo)} in {time.perf_counter() - started:.0f} s")
    return time.perf_counter() - started


# ---------------------------------------------------------------------------- scoring
def combine(forecasts: Sequence[Forecast]) -> Forecast:
    """Mean of point forecasts and of bounds (the reference combination's simple rule)."""
    return {k: np.mean([f[k] for f in forecasts], axis=0) for k in forecasts[0]}


def score_forecast(case: Case, fc: Forecast, horizon: int) -> dict[str, float]:
    """sMAPE, MASE, coverage and MSIS of one forecast on its first ``horizon`` steps."""
    y, train = case.test[:horizon], case.train.to_numpy(dtype=float)
    m = case.season_length
    row = {"smape": smape(y, fc[MEAN][:horizon]), "mase": mase(y, fc[MEAN][:horizon], train, m)}
    for lv in LEVELS:
        lo, hi = fc[lo_col(lv)][:horizon], fc[hi_col(lv)][:horizon]
        row[f"cov{lv}"] = 100.0 * coverage(y, lo, hi)
    row["msis95"] = msis(y, fc[lo_col(95)][:horizon], fc[hi_col(95)][:horizon], train, 95, m)
    return row


def methods_of(stored: dict[str, Forecast]) -> dict[str, Forecast]:
    """Every scored method of one case: the stored ones (failures replaced by naive2), sf_mean
    and, when R's three are there, r_mean."""
    fallback = stored.get("naive2")
    out = {k: v for k, v in stored.items() if not k.startswith("failed:")}
    for key in stored:
        if key.startswith("failed:") and fallback is not None:
            out[key.removeprefix("failed:")] = fallback
    if all(r in out for r in REFERENCES):
        out["sf_mean"] = combine([out[r] for r in REFERENCES])
    if all(r in out for r in R_METHODS):
        out["r_mean"] = combine([out[r] for r in R_METHODS])
    return out


def score_cases(
    cases: Sequence[Case],
    extra: Callable[[Case, dict[str, Forecast]], dict[str, Forecast]] | None = None,
    cache: Path = CACHE,
) -> pd.DataFrame:
    """One row per case x method x scored horizon; ``extra`` adds derived methods per case."""
    rows = []
    for case in cases:
        methods = methods_of(load_all(case, cache))
        if "auto" not in methods:
            continue  # not forecast yet (a run stopped early): n_cases in the tables says how many were
        if extra is not None:
            methods.update(extra(case, methods))
        for horizon in SCORED[case.set_name]:
            if len(case.test) < horizon:
                continue
            for name, fc in methods.items():
                row: dict[str, object] = {"set": case.set_name, "series": case.series_id, "origin": case.origin}
                row |= {"split": case.split, "h": horizon, "method": name, **score_forecast(case, fc, horizon)}
                rows.append(row)
    return pd.DataFrame(rows)


def summarise(
    scores: pd.DataFrame, metrics: Sequence[str] = ("smape", "mase", "cov80", "cov95", "msis95")
) -> pd.DataFrame:
    """Mean and standard error over series (each series averaged over its origins first)."""
    keys = ["set", "h", "split", "method"]
    per_series = scores.groupby([*keys, "series"])[list(metrics)].mean()
    grouped = per_series.groupby(level=keys)
    mean = grouped.mean()
    se = grouped.std(ddof=1) / np.sqrt(grouped.count())
    out = mean.join(se.add_suffix("_se"))
    out["n_series"] = grouped.size()
    out["n_cases"] = scores.groupby(keys).size()
    return out[[c for m in metrics for c in (m, f"{m}_se")] + ["n_series", "n_cases"]]


def paired_gap(scores: pd.DataFrame, method: str, reference: str, metric: str) -> pd.DataFrame:
    """``method`` minus ``reference`` per series (averaged over origins), mean and SE of the gap."""
    keys = ["set", "h", "split"]
    wide = scores[scores["method"].isin([method, reference])].pivot_table(
        index=[*keys, "series", "origin"], columns="method", values=metric
    )
    if method not in wide.columns or reference not in wide.columns:
        return pd.DataFrame(columns=["gap", "gap_se"])
    # Paired on the cases both have, then per series over its origins.
    per_series = (wide[method] - wide[reference]).dropna().groupby(level=[*keys, "series"]).mean()
    diff = per_series.groupby(level=keys)
    return pd.DataFrame({"gap": diff.mean(), "gap_se": diff.std(ddof=1) / np.sqrt(diff.count())})


def _print_tables(scores: pd.DataFrame, methods: Sequence[str]) -> None:
    table = summarise(scores[scores["method"].isin(methods)])
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.precision", 3):
        for (set_name, h, split), part in table.groupby(level=["set", "h", "split"]):
            _say(f"\n[{set_name}, h={h}, {split} origins]")
            _say(part.droplevel(["set", "h", "split"]).round(3).to_string())
        _say("\nauto minus each reference, paired over series (negative: auto more accurate):")
        _say(auto_gaps(scores).round(4).to_string())


def common_cases(scores: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """The rows of ``methods`` on the cases that have every one of them present in their set, split
    and horizon (a run stopped early, e.g. R's slower one, leaves some cases without a method)."""
    keys = ["set", "split", "h", "series", "origin"]
    part = scores[scores["method"].isin(methods)]
    need = part.groupby(["set", "split", "h"])["method"].nunique().rename("need").reset_index()
    have = part.groupby(keys)["method"].nunique().rename("n").reset_index().merge(need, on=["set", "split", "h"])
    return part.merge(have.loc[have["n"] == have["need"], keys], on=keys)


def auto_gaps(scores: pd.DataFrame) -> pd.DataFrame:
    """``auto`` minus each reference on sMAPE and MASE, paired over series: mean and SE."""
    frames = []
    for ref in ALL_REFERENCES:
        for metric in ("smape", "mase"):
            gap = paired_gap(scores, "auto", ref, metric)
            if gap.empty:  # a reference not run (R missing, or --no-r)
                continue
            frames.append(gap.assign(reference=ref, metric=metric).set_index(["reference", "metric"], append=True))
    return pd.concat(frames).unstack("metric")


def markdown_tables(table: pd.DataFrame, methods: Sequence[str]) -> str:
    """Pipe tables (one per set, horizon and split) of :func:`summarise`'s output, value ± SE."""
    parts = []
    for (set_name, h, split), part in table.groupby(level=["set", "h", "split"]):
        part = part.droplevel(["set", "h", "split"])
        n = int(part["n_series"].max())
        cases = int(part["n_cases"].max())
        parts.append(f"**{set_name}, h = {h}, {split} origins** ({n} series, {cases} cases)\n")
        parts.append("| method | sMAPE | MASE | cov 80 | cov 95 | MSIS 95 |\n|---|---|---|---|---|---|")
        for method in [m for m in methods if m in part.index]:
            r = part.loc[method]
            cells = [f"{r[k]:.3f} ± {r[k + '_se']:.3f}" if k == "mase" else f"{r[k]:.2f} ± {r[k + '_se']:.2f}"
                     for k in ("smape", "mase", "cov80", "cov95", "msis95")]  # fmt: skip
            parts.append(f"| {method} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m bench.trade``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", type=Path, required=True, help="Folder of the domain data files.")
    parser.add_argument("--n-jobs", type=int, default=-1, help="Worker processes (-1: all cores).")
    parser.add_argument("--set", action="append", choices=list(HORIZON), help="Restrict to a set (repeatable).")
    parser.add_argument(
        "--extra", action="store_true", help="Also forecast the EXTRA candidates (for bench.trade_choose)."
    )
    parser.add_argument("--cache", type=Path, default=CACHE, help="Forecast cache folder.")
    parser.add_argument(
        "--refresh", action="append", default=[], help="Forecast this method again (e.g. auto after changing it)."
    )
    parser.add_argument(
        "--only",
        action="append",
        help="Forecast only these methods (repeatable; r_ets etc. run R's three; scoring reads the cache).",
    )
    parser.add_argument("--no-r", action="store_true", help="Skip R's references (bench.trade_r).")
    parser.add_argument("--score-only", action="store_true", help="Score what is cached; forecast nothing.")
    parser.add_argument("--no-trade", action="store_true", help="Only the M3 cases of --m3.")
    parser.add_argument("--m3", type=Path, help="Also run the methods on M3's test parts (m3.csv.gz).")
    parser.add_argument("--m3-period", action="append", help="M3 periods for --m3 (default yearly and monthly).")
    parser.add_argument("--m3-sample", type=int, help="About N M3 series spread over the chosen periods.")
    args = parser.parse_args(argv)
    sets = () if args.no_trade else (args.set or tuple(HORIZON))
    cases = build_cases(args.domain, sets)
    if args.m3 is not None:
        m3 = m3_cases(args.m3, args.m3_period or ["yearly", "monthly"], args.m3_sample)
        cases += m3
        sets = (*sets, *dict.fromkeys(c.set_name for c in m3))
    for set_name in sets:
        mine = [c for c in cases if c.set_name == set_name]
        _say(f"{set_name}: {len({c.series_id for c in mine})} series, {len(mine)} cases")
    names = args.only or ["auto", *REFERENCES, "naive2", *(EXTRA if args.extra else ())]
    if args.refresh:
        forget(cases, args.refresh, args.cache)
    python = [n for n in dict.fromkeys(names) if n not in R_METHODS]
    with_r = not args.no_r and (args.only is None or any(n in R_METHODS for n in args.only))
    wall = 0.0
    if not args.score_only:
        wall = run_cases(cases, python, args.n_jobs, args.cache) if python else 0.0
        wall += run_r(cases, args.n_jobs, args.cache, say=_say) if with_r else 0.0
    write_outputs(score_cases(cases, cache=args.cache), OUT)
    _say(f"\nforecasting wall time {wall:.0f} s; scores in {OUT / 'trade_scores.csv'}")


def write_outputs(scores: pd.DataFrame, out: Path) -> None:
    """Scores, summary, tables and gaps to ``out``; the tables printed."""
    out.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out / "trade_scores.csv", index=False)
    summarise(scores).to_csv(out / "trade_summary.csv")
    shown = ["auto", *ALL_REFERENCES, "naive2"]
    common = common_cases(scores, shown)  # tables and gaps on the cases every shown method has
    (out / "trade_tables.md").write_text(markdown_tables(summarise(common), shown))
    auto_gaps(common).to_csv(out / "trade_gaps.csv")
    # The same without R's references, on every case the Python methods have (R's run may cover fewer).
    no_r = [m for m in shown if not m.startswith("r_")]
    common_py = common_cases(scores, no_r)
    (out / "trade_tables_no_r.md").write_text(markdown_tables(summarise(common_py), no_r))
    auto_gaps(common_py).to_csv(out / "trade_gaps_no_r.csv")
    _print_tables(common, shown)


if __name__ == "__main__":
    main()
