"""Does ``auto``'s interval calibration transfer? (issue 31, point 1)

One harness for every evaluation set of the issue, from cached fits:

- ``tourism``: the 1,311 tourism competition series (``/work/shared/data/tourism``), a corpus
  disjoint from M3: train part against test part (``test``), and holdouts inside the train
  parts (``near`` / ``deep``, the same origins ``bench.calibrate_intervals`` uses on M3).
- ``m3``: an evenly spread sample of M3 (``--m3-sample``): test parts, and the same holdouts.
- ``imf_annual`` and ``russia_monthly``: the trade panels of ``bench.trade`` (origins split
  into ``choose`` and ``report`` there, before any result was seen).
- ``sim``: short simulated series of a known generating process (``bench.transfer_sim``).

Each (series, origin) is fitted once with ``Auto(calibrate=False)`` and its members' moments
(the combined point forecast, the members' re-centred means and their sds) are cached in
``var/bench/transfer_cache/``. Any calibration table is then applied to the cached moments
exactly as ``Auto._predict`` applies it (``calibrated_bands``; a test checks the two agree),
followed by the censoring at zero that ``forecasting.forecast`` applies to non-negative level
series, so scoring a candidate table costs seconds. Tables are learned from the holdout ratios
with ``bench.calibrate_intervals.learn`` (``holdout_ratios`` builds its input from the cache).

Scores per series (averaged over its origins first): coverage of the 80% and 95% intervals
(% of outcomes inside) and MSIS (M4 scaled interval score, in-sample naive MAE of the
seasonal naive method), then mean and standard error over series.

Run: ``make bench-intervals`` or ``python -m bench.transfer --m3 <m3.csv.gz> --tourism
<tourism.csv.gz> --domain <domain folder>``.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting.auto import SHORT_SERIES_BELOW, Auto
from forecasting.ensemble import mixture_intervals, pooled_intervals
from forecasting.executor import get_executor
from forecasting.intervals import (
    POOLED,
    WidthCalibration,
    apply_width_factors,
    load_calibration,
    volatility,
)
from forecasting.metrics import interval_scores, scale_mae

logger = logging.getLogger(__name__)

CACHE = Path("var/bench/transfer_cache")
LEVELS = (80, 95)
GRID = (50, 60, 70, 80, 90, 95, 99)
#: Holdout origins roll for non-seasonal data, as in bench.calibrate_intervals.
ROLLING = frozenset({1})


@dataclass(frozen=True)
class Case:
    """One fit: a series cut at an origin, and the values that followed (up to ``horizon``)."""

    set_name: str
    series_id: str
    split: str  # test / report / choose / near / deep
    origin: str
    train: pd.Series
    actual: np.ndarray
    horizon: int
    season_length: int
    #: The competition horizon of the series (the drift-correction weight uses it).
    full_horizon: int


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------------- the cases
def competition_cases(set_name: str, path: Path, sample: int | None, splits: Sequence[str]) -> list[Case]:
    """Cases of an M3-format competition file (M3 or tourism): ``test`` (train part against
    test part) and the holdouts ``near`` / ``deep`` inside the train part."""
    from bench.m3 import load_m3

    out: list[Case] = []
    for s in load_m3(path, sample=sample):
        h, m, y = s.horizon, s.season_length, s.train
        if "test" in splits:
            out.append(Case(set_name, s.series_id, "test", "end", y, s.test, h, m, h))
        for split in ("near", "deep"):
            if split not in splits:
                continue
            if m in ROLLING:
                depths = range(1, h + 1) if split == "near" else range(h + 1, 2 * h + 1)
            else:
                depths = range(h, h + 1) if split == "near" else range(2 * h, 2 * h + 1)
            for j in depths:
                steps = min(j, h)
                train, held = y.iloc[:-j], y.iloc[-j:].iloc[:steps].to_numpy()
                out.append(Case(set_name, s.series_id, split, f"n-{j}", train, held, steps, m, h))
    return out


def trade_cases(domain: Path, sets: Sequence[str] | None = None) -> list[Case]:
    """The IMF annual and Russia monthly cases of ``bench.trade`` (choose and report origins),
    or those of ``sets`` only."""
    from bench.trade import build_cases

    return [
        Case(c.set_name, c.series_id, c.split, c.origin, c.train, c.test, c.horizon, c.season_length, c.horizon)
        for c in build_cases(domain, tuple(sets or ("imf_annual", "russia_monthly")))
    ]


# ----------------------------------------------------------------------------- the fits
def fit_moments(case: Case) -> dict[str, Any] | None:
    """Fit ``Auto(calibrate=False)`` on the case and keep what any calibration needs."""
    model = Auto(calibrate=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(case.train)
            point, shifted, sds = model.member_moments(case.horizon)
    except Exception as exc:  # too short or a failed fit: recorded as missing
        logger.info("skip %s %s %s: %s", case.set_name, case.series_id, case.origin, exc)
        return None
    y = case.train.to_numpy(dtype=float)
    return {
        "set": case.set_name,
        "series_id": case.series_id,
        "split": case.split,
        "origin": case.origin,
        "m": int(model.season_length_),
        "n": len(y),
        "vol": volatility(y),
        "scale": scale_mae(y, case.season_length),
        "nonneg": bool(np.all(y >= 0)),
        "full_horizon": case.full_horizon,
        "actual": np.asarray(case.actual, dtype=float),
        "point": point,
        "shifted": shifted,
        "sds": sds,
    }


def _fit_chunk(cases: list[Case]) -> list[dict[str, Any]]:
    return [r for r in (fit_moments(c) for c in cases) if r is not None]


def cached_fits(
    cases: Sequence[Case], label: str, n_jobs: int, cache: Path = CACHE, chunk: int = 16, fit: bool = True
) -> list[dict[str, Any]]:
    """Records of every case, fitted in chunks on the project executor; each chunk is cached
    (``cache/<label>/<i>.pkl``) so an interrupted run resumes. With ``fit=False`` only the
    chunks already cached are read."""
    folder = cache / label
    folder.mkdir(parents=True, exist_ok=True)
    chunks = [list(cases[i : i + chunk]) for i in range(0, len(cases), chunk)]
    todo = [i for i in range(len(chunks)) if not (folder / f"{i}.pkl").is_file()] if fit else []
    if todo:
        started = time.perf_counter()
        _say(f"{label}: fitting {sum(len(chunks[i]) for i in todo)} of {len(cases)} cases")
        with get_executor(n_jobs, n_tasks=len(todo)) as executor:
            for i, result in executor.stream((i, partial(_fit_chunk, chunks[i])) for i in todo):
                with (folder / f"{i}.pkl").open("wb") as fh:
                    pickle.dump(result.unwrap(), fh)
        _say(f"{label}: {time.perf_counter() - started:.0f} s")
    records: list[dict[str, Any]] = []
    for i in range(len(chunks)):
        if not (folder / f"{i}.pkl").is_file():
            continue
        with (folder / f"{i}.pkl").open("rb") as fh:
            records.extend(pickle.load(fh))
    return records


# ----------------------------------------------------------------------------- the bands
def calibrated_bands(
    record: dict[str, Any], calibration: WidthCalibration | None, levels: Iterable[int] = LEVELS, censor: bool = True
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The intervals ``Auto`` (with ``calibration``; None: uncalibrated) gives from the cached
    moments, censored at zero for a non-negative series when ``censor``."""
    levels = tuple(levels)
    point, shifted, sds = record["point"], record["shifted"], record["sds"]
    if calibration is not None:
        sds = calibration.member_sds(sds, record["n"], trend=record["n"] >= SHORT_SERIES_BELOW)
    kind = (record["m"], record["n"], record["vol"])
    table = calibration.table(*kind) if calibration is not None else None
    band = calibration.band(*kind) if calibration is not None and table is not None else "mixture"
    bands = pooled_intervals(point, sds, levels) if band == POOLED else mixture_intervals(shifted, sds, levels)
    if table is not None and calibration is not None:
        factors = {lv: calibration.factor(*kind[:2], len(point), lv, kind[2]) for lv in levels}
        bands = apply_width_factors(point, bands, {k: v for k, v in factors.items() if v is not None})
    if censor and record["nonneg"]:
        bands = {lv: (np.maximum(lo, 0.0), np.maximum(hi, 0.0)) for lv, (lo, hi) in bands.items()}
    return bands


def score_records(
    records: Sequence[dict[str, Any]],
    calibration: WidthCalibration | None,
    steps: int | None = None,
    censor: bool = True,
) -> pd.DataFrame:
    """Per record: coverage (%) at LEVELS and MSIS at LEVELS over its first ``steps``
    outcomes (all when None; a record with fewer actuals than ``steps`` is left out)."""
    rows = []
    for r in records:
        actual = r["actual"]
        k = len(actual) if steps is None else steps
        if len(actual) < k or not np.isfinite(r["scale"]) or r["scale"] <= 0:
            continue
        bands = calibrated_bands(r, calibration, censor=censor)
        row: dict[str, Any] = {"set": r["set"], "series_id": r["series_id"], "origin": r["origin"], "m": r["m"]}
        for lv in LEVELS:
            lo, hi = bands[lv][0][:k], bands[lv][1][:k]
            row[f"cov{lv}"] = 100.0 * float(np.mean((actual[:k] >= lo) & (actual[:k] <= hi)))
            row[f"msis{lv}"] = float(np.mean(interval_scores(actual[:k], lo, hi, lv))) / r["scale"]
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame) -> dict[str, float]:
    """Mean ± SE over series of the per-series means (each series averaged over its origins)."""
    per_series = scores.groupby("series_id")[[f"{s}{lv}" for s in ("cov", "msis") for lv in LEVELS]].mean()
    out: dict[str, float] = {"series": float(len(per_series)), "cases": float(len(scores))}
    for col in per_series:
        out[col] = float(per_series[col].mean())
        out[f"{col}_se"] = (
            float(per_series[col].std(ddof=1) / np.sqrt(len(per_series))) if len(per_series) > 1 else np.nan
        )
    return out


# ----------------------------------------------------------------------------- learning
def holdout_ratios(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The ratio frame ``bench.calibrate_intervals.learn`` reads, from cached holdout records
    (splits ``near`` / ``deep``, or trade ``choose`` origins taken as near origins)."""
    frames = []
    for r in records:
        point, shifted, sds, actual = r["point"], r["shifted"], r["sds"], r["actual"]
        k = len(actual)
        point, shifted, sds = point[:k], shifted[:, :k], sds[:, :k]
        err = actual - point
        scale = r["scale"] if np.isfinite(r["scale"]) and r["scale"] > 0 else np.nan
        h = r["full_horizon"]
        frame = pd.DataFrame(
            {
                "series_id": f"{r['set']}:{r['series_id']}",
                "m": r["m"],
                "n": r["n"],
                "step": np.arange(1, k + 1),
                "origin": "deep" if r["split"] == "deep" else "near",
                "vol": r["vol"],
                "weight": (h + 1) / (2 * h) if r["m"] in ROLLING else 1.0,
                "err_s": err / scale,
            }
        )
        for band, intervals in (
            ("mixture", mixture_intervals(shifted, sds, GRID)),
            (POOLED, pooled_intervals(point, sds, GRID)),
        ):
            for lv in GRID:
                lo, hi = intervals[lv]
                up, down = hi - point, point - lo
                half = np.where(err >= 0, up, down)
                col = f"r{lv}" if band == "mixture" else f"r{lv}_{band}"
                frame[col] = np.abs(err) / np.maximum(half, 1e-12 * (1 + np.abs(point)))
                if lv in LEVELS:
                    frame[f"up_{band}{lv}"] = up / scale
                    frame[f"down_{band}{lv}"] = down / scale
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- the report
M3_PERIODS = {"YEARLY": "yearly", "QUARTERLY": "quarterly", "MONTHLY": "monthly", "OTHER": "other"}
TOURISM_PERIODS = {1: "yearly", 4: "quarterly", 12: "monthly"}


def m3_periods(path: Path) -> dict[str, str]:
    """M3 series id → period (``yearly`` … ``other``)."""
    raw = pd.read_csv(path, usecols=["series_id", "period_kind"]).drop_duplicates("series_id")
    return {str(s): M3_PERIODS[str(p).upper()] for s, p in zip(raw["series_id"], raw["period_kind"], strict=True)}


@dataclass(frozen=True)
class EvalSet:
    """A named group of cached records scored at one number of steps (None: all)."""

    name: str
    records: tuple[dict[str, Any], ...]
    steps: int | None = None


def eval_sets(fits: dict[str, list[dict[str, Any]]], m3_path: Path | None, splits: Sequence[str]) -> list[EvalSet]:
    """The evaluation groups of the cached fits: competition test parts per period, the
    trade panels per split (IMF at h = 6, Russia at h = 12 and 18) and the simulations.
    ``splits`` picks the trade origins (``report`` to report, ``choose`` to choose)."""
    out: list[EvalSet] = []
    for prefix, key in (("tourism_test", "tourism"), ("m3_test", "m3")):
        records = [r for label, recs in fits.items() if label.startswith(prefix) for r in recs]
        if not records:
            continue
        periods = m3_periods(m3_path) if key == "m3" and m3_path else {}
        for period in ("yearly", "quarterly", "monthly", "other"):
            part = [r for r in records if periods.get(r["series_id"], TOURISM_PERIODS.get(r["m"])) == period]
            if part:
                out.append(EvalSet(f"{key} {period}", tuple(part)))
    trade = trade_records(fits)
    for split in splits:
        imf = tuple(r for r in trade if r["set"] == "imf_annual" and r["split"] == split)
        russia = tuple(r for r in trade if r["set"] == "russia_monthly" and r["split"] == split)
        if imf:
            out.append(EvalSet(f"imf_annual {split} h=6", imf, 6))
        if russia:
            out.append(EvalSet(f"russia_monthly {split} h=12", russia, 12))
            out.append(EvalSet(f"russia_monthly {split} h=18", russia, 18))
    if fits.get("sim0"):
        out.append(EvalSet("sim (8-15 obs., h=6)", tuple(fits["sim0"])))
    return out


def trade_records(fits: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The cached trade records (every label starting ``trade``)."""
    return [r for label, records in fits.items() if label.startswith("trade") for r in records]


REFERENCE_METHODS = ("sf_mean", "sf_ets", "sf_arima", "sf_theta", "naive2")


def reference_scores(domain: Path, trade_cache: Path | None = None) -> pd.DataFrame:
    """The statsforecast references and Naive2 cached by ``bench.trade`` on the same trade
    cases, scored like ``score_records`` (bounds censored at zero for a non-negative series,
    as ``auto``'s are): one row per case and method, with ``set`` named as ``eval_sets`` does."""
    from bench.trade import CACHE as TRADE_CACHE
    from bench.trade import build_cases, load_all, methods_of

    rows = []
    for case in build_cases(domain, ("imf_annual", "russia_monthly")):
        methods = methods_of(load_all(case, trade_cache or TRADE_CACHE))
        train = case.train.to_numpy(dtype=float)
        scale, nonneg = scale_mae(train, case.season_length), bool(np.all(train >= 0))
        for steps in (6,) if case.set_name == "imf_annual" else (12, 18):
            if len(case.test) < steps or not scale > 0:
                continue
            y = case.test[:steps]
            for name in REFERENCE_METHODS:
                if name not in methods:
                    continue
                row: dict[str, Any] = {"set": f"{case.set_name} {case.split} h={steps}", "candidate": name}
                row |= {"series_id": case.series_id, "origin": case.origin}
                for lv in LEVELS:
                    lo, hi = methods[name][f"lo_{lv}"][:steps], methods[name][f"hi_{lv}"][:steps]
                    if nonneg:
                        lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
                    row[f"cov{lv}"] = 100.0 * float(np.mean((y >= lo) & (y <= hi)))
                    row[f"msis{lv}"] = float(np.mean(interval_scores(y, lo, hi, lv))) / scale
                rows.append(row)
    return pd.DataFrame(rows)


def reference_table(scores: pd.DataFrame) -> pd.DataFrame:
    """``reference_scores`` summarised per set and method like ``score_table``."""
    if scores.empty:
        return scores
    return pd.DataFrame(
        [{"set": s, "candidate": c, **summarise(part)} for (s, c), part in scores.groupby(["set", "candidate"])]
    )


def score_table(sets: Sequence[EvalSet], candidates: dict[str, WidthCalibration | None]) -> pd.DataFrame:
    """One row per (set, candidate): series, cases, coverage and MSIS at LEVELS ± SE."""
    rows = []
    for es in sets:
        for name, calibration in candidates.items():
            rows.append(
                {"set": es.name, "candidate": name, **summarise(score_records(es.records, calibration, es.steps))}
            )
    return pd.DataFrame(rows)


def paired_msis(
    es: EvalSet, a: WidthCalibration | None, b: WidthCalibration | None, level: int = 95
) -> tuple[float, float]:
    """MSIS of ``a`` minus ``b`` on the same series: mean and SE of the per-series difference."""
    sa, sb = (score_records(es.records, c, es.steps).groupby("series_id")[f"msis{level}"].mean() for c in (a, b))
    diff = (sa - sb).dropna()
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def markdown(table: pd.DataFrame) -> str:
    """The score table as markdown: coverage and MSIS with their SEs."""
    lines = [
        "| set | candidate | series | cov 80 | cov 95 | MSIS 80 | MSIS 95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        cells = [f"{r[c]:.1f} ± {r[c + '_se']:.1f}" for c in ("cov80", "cov95")]
        cells += [f"{r[c]:.2f} ± {r[c + '_se']:.2f}" for c in ("msis80", "msis95")]
        lines.append(f"| {r['set']} | {r['candidate']} | {int(r['series'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def learn_table(records: Sequence[dict[str, Any]]) -> WidthCalibration:
    """Factor tables learned by ``bench.calibrate_intervals.learn`` (volatility and band
    choice by cross-validation, drift correction) from holdout records."""
    from bench.calibrate_intervals import learn

    return learn(holdout_ratios(records))


#: The learning bases compared: name → which holdout records enter (cache label prefixes;
#: ``trade`` means the trade panels' choosing origins).
BASES: dict[str, tuple[str, ...]] = {
    "m3 sample": ("m3_holdout",),
    "m3 + trade": ("m3_holdout", "trade"),
    "tourism + trade": ("tourism_holdout", "trade"),
    "m3 + tourism": ("m3_holdout", "tourism_holdout"),
    "m3 + tourism + trade": ("m3_holdout", "tourism_holdout", "trade"),
}


def base_records(fits: dict[str, list[dict[str, Any]]], parts: Sequence[str]) -> list[dict[str, Any]]:
    """The holdout records of a learning base (trade: choosing origins only)."""
    out: list[dict[str, Any]] = []
    for label, records in fits.items():
        if label == "trade" and "trade" in parts:
            out.extend(r for r in records if r["split"] == "choose")
        elif any(label.startswith(p) for p in parts if p != "trade"):
            out.extend(r for r in records if r["split"] in ("near", "deep"))
    return out


def learned_candidates(fits: dict[str, list[dict[str, Any]]]) -> dict[str, WidthCalibration]:
    """A table learned on every base of BASES whose holdouts are all cached."""
    out: dict[str, WidthCalibration] = {}
    have = {p for p in ("m3_holdout", "tourism_holdout") if any(k.startswith(p) for k in fits)}
    have |= {"trade"} if "trade" in fits else set()
    for name, parts in BASES.items():
        if set(parts) <= have:
            out[name] = learn_table(base_records(fits, parts))
    return out


#: Candidate member-sd caps (``WidthCalibration.sd_cap``), largest first; None: no cap.
CAPS: tuple[float | None, ...] = (None, 4.0, 3.0, 2.0, 1.5)


def choosing_sets(fits: dict[str, list[dict[str, Any]]]) -> list[EvalSet]:
    """The data a choice may be made on: the near holdouts inside the competition train
    parts, the trade panels' choosing origins and the choosing simulation (seed 1)."""
    out = []
    for label, records in fits.items():
        if "_holdout" in label:
            out.append(EvalSet(f"{label} near", tuple(r for r in records if r["split"] == "near")))
        elif label == "sim1":
            out.append(EvalSet(label, tuple(records)))
    trade = trade_records(fits)
    for set_name, steps in (("imf_annual", 6), ("russia_monthly", 12)):
        part = tuple(r for r in trade if r["set"] == set_name and r["split"] == "choose")
        if part:
            out.append(EvalSet(f"{set_name} choose h={steps}", part, steps))
    return out


def _interval_score(es: EvalSet, calibration: WidthCalibration | None) -> pd.Series:
    """Per series: the mean of its MSIS at 80% and 95%."""
    scores = score_records(es.records, calibration, es.steps)
    return scores.assign(s=(scores["msis80"] + scores["msis95"]) / 2).groupby("series_id")["s"].mean()


#: Candidate multiples of the factors of non-seasonal fits of 13-15 points (a bucket of their own).
SHORT_MULTIPLES: tuple[float | None, ...] = (None, 1.15, 1.3, 1.45, 1.6)


def with_short_bucket(calibration: WidthCalibration, multiple: float | None, edge: int = 16) -> WidthCalibration:
    """``calibration`` with non-seasonal fits of 13 to ``edge - 1`` points in a bucket of their
    own whose factors are those of the 13-44 bucket times ``multiple`` (None: unchanged)."""
    if multiple is None:
        return calibration
    old = calibration.edges_by_season.get(1, calibration.length_edges)
    factors = dict(calibration.factors)
    bands = dict(calibration.bands)
    shifted = {
        f"m1_b{int(k.split('_b')[1]) + 1}": v for k, v in factors.items() if k.startswith("m1_b") and k != "m1_b0"
    }
    new_bands = {
        f"m1_b{int(k.split('_b')[1]) + 1}": v for k, v in bands.items() if k.startswith("m1_b") and k != "m1_b0"
    }
    factors = {k: v for k, v in factors.items() if not k.startswith("m1_b") or k == "m1_b0"} | shifted
    factors["m1_b1"] = np.asarray(calibration.factors["m1_b1"]) * multiple
    bands = {k: v for k, v in bands.items() if not k.startswith("m1_b") or k == "m1_b0"} | new_bands
    edges = (old[0], edge, *old[1:])
    return replace(calibration, factors=factors, bands=bands, edges_by_season={**calibration.edges_by_season, 1: edges})


#: Candidate multiples of the trend-estimation term for fits under 16 points
#: (``WidthCalibration.trend_term``; 1 is the random-walk-with-drift formula), None: no term.
TREND_TERMS: tuple[float | None, ...] = (None, 0.5, 1.0, 1.5, 2.0)


def with_trend_term(calibration: WidthCalibration, multiple: float | None) -> WidthCalibration:
    """``calibration`` with the trend-estimation term of ``multiple`` on fits under 16 points."""
    return replace(calibration, trend_term=multiple, trend_term_below=16)


def choose_variant(
    sets: Sequence[EvalSet],
    calibration: WidthCalibration,
    values: Sequence[float | None],
    variant: Callable[[WidthCalibration, float | None], WidthCalibration],
) -> tuple[float | None, pd.DataFrame]:
    """``choose_sd_cap``'s rule for any one-parameter variant of the calibration (None: as is)."""
    rows = []
    for es in sets:
        base = _interval_score(es, variant(calibration, None))
        for value in values:
            diff = (_interval_score(es, variant(calibration, value)) - base).dropna() / base.mean()
            se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
            rows.append(
                {"set": es.name, "value": str(value), "series": len(diff), "change": float(diff.mean()), "se": se}
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return None, table
    overall = table.groupby("value", sort=False).agg(
        change=("change", "mean"), se=("se", lambda v: float(np.sqrt(np.sum(np.square(v)))) / len(v))
    )
    best = str(overall["change"].idxmin())
    limit = overall.loc[best, "change"] + overall.loc[best, "se"]
    within = [v for v in values if overall.loc[str(v), "change"] <= limit]
    chosen = None if None in within else min(v for v in within if v is not None)
    return chosen, pd.concat([table, overall.reset_index().assign(set="all (mean over sets)")], ignore_index=True)


def choose_sd_cap(
    sets: Sequence[EvalSet], calibration: WidthCalibration, caps: Sequence[float | None] = CAPS
) -> tuple[float | None, pd.DataFrame]:
    """The member-sd cap chosen on ``sets`` (choosing data only), and the scores.

    Per set and cap: the per-series change of the interval score (mean of MSIS 80 and 95)
    against no cap, relative to the set's no-cap mean, with its SE; averaged over the sets
    (SE combined as independent). By the one-standard-error rule the largest cap (the least
    change) whose mean change is within one SE of the best is chosen; None when no cap is.
    """
    rows = []
    for es in sets:
        base = _interval_score(es, replace(calibration, sd_cap=None))
        for cap in caps:
            diff = (_interval_score(es, replace(calibration, sd_cap=cap)) - base).dropna() / base.mean()
            se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
            rows.append({"set": es.name, "cap": str(cap), "series": len(diff), "change": float(diff.mean()), "se": se})
    table = pd.DataFrame(rows)
    if table.empty:
        return None, table
    overall = table.groupby("cap", sort=False).agg(
        change=("change", "mean"), se=("se", lambda v: float(np.sqrt(np.sum(np.square(v)))) / len(v))
    )
    best = str(overall["change"].idxmin())
    limit = overall.loc[best, "change"] + overall.loc[best, "se"]
    within = [c for c in caps if overall.loc[str(c), "change"] <= limit]
    chosen = None if None in within else max(c for c in within if c is not None)
    return chosen, pd.concat([table, overall.reset_index().assign(set="all (mean over sets)")], ignore_index=True)


# ----------------------------------------------------------------------------- the run
def _only_season(loader: Callable[[], list[Case]], season_length: int) -> list[Case]:
    return [c for c in loader() if c.season_length == season_length]


def fit_sets(args: argparse.Namespace) -> dict[str, Callable[[], list[Case]]]:
    """The fit sets (cache label → case loader) the command line asked for, in fitting order.

    With ``--season-length`` the competition sets keep only the series of that season length
    (the same sampled series; their cache labels end in ``_m<season length>``)."""
    sets = _all_fit_sets(args)
    if args.season_length is None:
        return sets
    keep = args.season_length
    return {
        (f"{label}_m{keep}" if label.startswith(("tourism_", "m3_")) else label): (
            partial(_only_season, loader, keep) if label.startswith(("tourism_", "m3_")) else loader
        )
        for label, loader in sets.items()
    }


def _all_fit_sets(args: argparse.Namespace) -> dict[str, Callable[[], list[Case]]]:
    sets: dict[str, Callable[[], list[Case]]] = {}
    if args.tourism:
        sets[f"tourism_test_s{args.tourism_sample}"] = partial(
            competition_cases, "tourism", args.tourism, args.tourism_sample, ("test",)
        )
    if args.domain:
        sets["trade" if args.trade_sets is None else "trade_" + "_".join(args.trade_sets)] = partial(
            trade_cases, args.domain, args.trade_sets
        )
    if args.m3:
        sets[f"m3_test_s{args.m3_sample}"] = partial(competition_cases, "m3", args.m3, args.m3_sample, ("test",))
    if args.sim:
        from bench.transfer_sim import simulated_cases

        sets["sim0"] = partial(simulated_cases, args.sim, 0)
        sets["sim1"] = partial(simulated_cases, args.sim, 1)
    if args.holdouts and args.tourism:
        sets[f"tourism_holdout_s{args.tourism_holdout_sample}"] = partial(
            competition_cases, "tourism", args.tourism, args.tourism_holdout_sample, ("near", "deep")
        )
    if args.holdouts and args.m3:
        sets[f"m3_holdout_s{args.m3_holdout_sample}"] = partial(
            competition_cases, "m3", args.m3, args.m3_holdout_sample, ("near", "deep")
        )
    return sets


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--m3", type=Path, default=None, help="M3 observations (m3.csv.gz).")
    parser.add_argument("--m3-sample", type=int, default=400, help="M3 series for the test-part check.")
    parser.add_argument("--m3-holdout-sample", type=int, default=200, help="M3 series for the holdouts.")
    parser.add_argument("--tourism-sample", type=int, default=500, help="Tourism series for the test parts.")
    parser.add_argument("--tourism-holdout-sample", type=int, default=200, help="Tourism series for the holdouts.")
    parser.add_argument("--tourism", type=Path, default=None, help="Tourism observations (tourism.csv.gz).")
    parser.add_argument("--domain", type=Path, default=None, help="Folder of the trade files (bench.trade).")
    parser.add_argument("--sim", type=int, default=0, help="Simulated short series per seed (0: none).")
    parser.add_argument("--holdouts", action="store_true", help="Also fit the holdouts inside the train parts.")
    parser.add_argument("--only", action="append", default=None, help="Fit only these sets (repeatable).")
    parser.add_argument(
        "--season-length", type=int, default=None, help="Competition sets: only series of this season length."
    )
    parser.add_argument(
        "--trade-sets", nargs="+", default=None, help="Trade panels to fit (default: imf_annual russia_monthly)."
    )
    parser.add_argument("--score-only", action="store_true", help="Score the cached fits; fit nothing.")
    parser.add_argument("--no-learned", action="store_true", help="Do not learn and score tables on other bases.")
    parser.add_argument("--splits", nargs="+", default=["report"], help="Trade origins to score.")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--out", type=Path, default=Path("var/bench/transfer_tables.md"))
    return parser


def paired_text(sets: Sequence[EvalSet], title: str, a: WidthCalibration, b: WidthCalibration) -> str:
    """Markdown: per set, MSIS at LEVELS of ``a`` minus ``b``, paired over series (mean ± SE)."""
    head = f"\n\n{title}, paired over series:\n\n| set | MSIS 80 change ± SE | MSIS 95 change ± SE |\n|---|---|---|\n"
    return head + "\n".join(
        f"| {es.name} | " + " | ".join("{:+.3f} ± {:.3f}".format(*paired_msis(es, a, b, lv)) for lv in LEVELS) + " |"
        for es in sets
    )


def run_choices(fits: dict[str, list[dict[str, Any]]], shipped: WidthCalibration) -> dict[str, WidthCalibration | None]:
    """Make (and print) every choice on the choosing data; the candidates they give, by name.

    Each choice starts from the calibration of its time: the cap from no cap and no trend
    term, the short bucket and the trend term from the cap alone."""
    sets = choosing_sets(fits)
    plain = replace(shipped, trend_term=None)
    before = replace(plain, sd_cap=None)
    cap, by_cap = choose_sd_cap(sets, before)
    multiple, by_multiple = choose_variant(sets, plain, SHORT_MULTIPLES, with_short_bucket)
    term, by_term = choose_variant(sets, plain, TREND_TERMS, with_trend_term)
    for title, table, value, now in (
        ("Member-sd cap (interval score change vs no cap, relative)", by_cap, cap, shipped.sd_cap),
        ("Factor multiple for non-seasonal fits of 13-15 points", by_multiple, multiple, None),
        (
            "Trend-estimation term for fits under 16 points (multiple of h*sd/sqrt(n-1))",
            by_term,
            term,
            shipped.trend_term,
        ),
    ):
        _say(f"\n## {title}, chosen on the choosing data\n")
        _say(table.round(4).to_string(index=False))
        _say(f"\nchosen: {value} (shipped: {now})\n")
    candidates: dict[str, WidthCalibration | None] = {"before (no cap)": before, "uncalibrated": None}
    candidates["sd_cap, no trend term"] = plain
    if cap is not None and cap != plain.sd_cap:
        candidates[f"sd_cap {cap:g}"] = replace(plain, sd_cap=cap)
    if multiple is not None:
        candidates[f"short bucket x{multiple:g}"] = with_short_bucket(plain, multiple)
    for value in TREND_TERMS[1:]:
        candidates[f"trend term {value:g}"] = with_trend_term(plain, value)
    candidates["shipped"] = shipped
    return candidates


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    fits: dict[str, list[dict[str, Any]]] = {}
    for label, loader in fit_sets(args).items():
        if args.only and label not in args.only:
            continue
        if args.score_only and not (args.cache / label).is_dir():
            continue
        fits[label] = cached_fits(loader(), label, args.n_jobs, args.cache, fit=not args.score_only)
    shipped = load_calibration("auto")
    assert shipped is not None
    candidates = run_choices(fits, shipped)
    if not args.no_learned:
        candidates |= learned_candidates(fits)
    sets = eval_sets(fits, args.m3, args.splits)
    table = score_table(sets, candidates)
    if args.domain:
        table = pd.concat([table, reference_table(reference_scores(args.domain))], ignore_index=True)
        table = table.sort_values("set", kind="stable")
    plain = replace(shipped, trend_term=None)
    text = markdown(table) + paired_text(sets, "The member-sd cap minus no cap", plain, replace(plain, sd_cap=None))
    for value in TREND_TERMS[1:]:
        text += paired_text(sets, f"The trend term {value:g} minus none", with_trend_term(plain, value), plain)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    _say(text)


if __name__ == "__main__":
    main()
