"""Mixed reporting (issue 20 point 4): what the published totals add, measured.

(a) Simulated: monthly series ``level (random walk with drift) + seasonal wave + noise``, 8
    years; the last 12 months are the test. Of the 84 training months about 30% are
    published as months (the last one always, so every model starts from the same month),
    and each year has two year-to-date totals at random cut-offs. Forecast the test with
    :func:`forecasting.mixed.forecast_mixed` using the totals, the same model ignoring them
    (``use_totals=False``), and ``forecast(y, model="structural", missing="model")`` on the
    months alone. Report the mean absolute error over series with the standard error of the
    paired difference, the 95% coverage, and the error of the smoothed estimates of the
    unpublished training months.
(b) GACC China-Russia total: forecast the next 12 months from the end of 2021 and of 2022
    from the reports available then (labels ending by the origin), with and without the
    totals, and score against the months the later reports give (reported or derived).
(c) VAR/VECM (issue 20 point 5) of Russia's monthly exports to and imports from China
    (FCS, 2006-2021): forecasts of 2020 and of 2021 against univariate ``auto``, and the
    orthogonalised impulse responses.

The simulation's parameters are fixed before any run and not tuned. Run from the root::

    python -m bench.mixed_bench simulated --series 40
    python -m bench.mixed_bench gacc --data /work/shared/data/domain/china_russia_monthly_and_ytd_press_gacc.csv
    python -m bench.mixed_bench var --data /work/shared/data/domain/russia_fcs_trade_by_partner_monthly_2006_2021.csv
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

import forecasting
from forecasting.exceptions import ConvergenceWarning, ForecastingError
from forecasting.mixed import forecast_mixed, monthly_from_reports
from forecasting.multivariate import forecast_var, impulse_responses

logger = logging.getLogger(__name__)

HORIZON = 12


def simulate(seed: int, n_years: int = 8) -> pd.Series:
    """A monthly series: random walk with drift + two seasonal harmonics + noise."""
    rng = np.random.default_rng(seed)
    n = 12 * n_years
    t = np.arange(n)
    level = 100 + np.cumsum(rng.normal(0.3, 1.0, n))
    season = 8 * np.sin(2 * np.pi * t / 12) + 4 * np.cos(4 * np.pi * t / 12)
    y = level + season + rng.normal(0, 2.0, n)
    return pd.Series(y, index=pd.period_range("2012-01", periods=n, freq="M"), name="sim")


def publish(y: pd.Series, seed: int, p_month: float = 0.3) -> pd.Series:
    """Figures indexed by labels: some months (the last always) and two YTD totals a year."""
    rng = np.random.default_rng(seed + 10_000)
    figures: dict[str, float] = {}
    for i, (p, v) in enumerate(y.items()):
        if rng.random() < p_month or i == len(y) - 1:
            figures[str(p)] = float(v)
    for year in sorted(set(y.index.year)):
        months = y[y.index.year == year]
        for cut in sorted(rng.choice(np.arange(2, 13), size=2, replace=False)):
            if cut <= len(months):
                figures[f"{year}-01..{int(cut):02d}"] = float(months.iloc[: int(cut)].sum())
    return pd.Series(figures, name="sim")


def _score(fc: pd.DataFrame, actual: pd.Series) -> tuple[float, float]:
    truth = actual.reindex(fc.index).to_numpy(dtype=float)
    seen = np.isfinite(truth)
    mae = float(np.mean(np.abs(fc["mean"].to_numpy()[seen] - truth[seen])))
    cover = float(
        np.mean((fc["lo_95"].to_numpy()[seen] <= truth[seen]) & (truth[seen] <= fc["hi_95"].to_numpy()[seen]))
    )
    return mae, cover


def run_simulated(n_series: int) -> dict[str, float]:
    rows = []
    for seed in range(n_series):
        y = simulate(seed)
        train, test = y.iloc[:-HORIZON], y.iloc[-HORIZON:]
        reports = publish(train, seed)
        mixed = monthly_from_reports(list(reports.index), reports.to_numpy())
        row: dict[str, float] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for label, use in (("totals", True), ("months_only", False)):
                fit = forecast_mixed(mixed, HORIZON, (95,), use_totals=use)
                row[f"mae_{label}"], row[f"cover_{label}"] = _score(fit.forecast, test)
                est = fit.estimates[fit.estimates["status"] == "estimated"]
                row[f"est_mae_{label}"] = float(np.mean(np.abs(est["mean"] - train.reindex(est.index))))
                if use:
                    row["sum_gap"] = _largest_sum_gap(fit)
            try:
                fc = forecasting.forecast(mixed.y, HORIZON, (95,), model="structural", missing="model")
                row["mae_structural"], row["cover_structural"] = _score(fc, test)
            except ForecastingError as exc:
                logger.warning("seed %d: structural failed: %s", seed, exc)
        rows.append(row)
    frame = pd.DataFrame(rows)
    out = {f"{c}": float(frame[c].mean()) for c in frame.columns}
    for other in ("months_only", "structural"):
        diff = (frame["mae_totals"] - frame[f"mae_{other}"]).dropna()
        out[f"diff_vs_{other}_se"] = float(diff.std(ddof=1) / np.sqrt(len(diff)))
        out[f"wins_vs_{other}"] = float((diff < 0).mean())
    for c in ("mae_totals", "mae_months_only", "mae_structural", "est_mae_totals", "est_mae_months_only"):
        out[f"{c}_se"] = float(frame[c].std(ddof=1) / np.sqrt(frame[c].notna().sum()))
    return out


def _largest_sum_gap(out: forecasting.mixed.MixedForecast) -> float:
    """Largest relative gap between a published total and the sum of the smoothed months."""
    gaps = [
        abs(float(out.estimates.loc[start:end, "mean"].sum()) - total) / abs(total)
        for start, end, total in out.totals_used.itertuples(index=False)
    ]
    return max(gaps, default=0.0)


def _reports_until(frame: pd.DataFrame, origin: pd.Period) -> pd.DataFrame:
    ends = frame["period"].astype(str).map(lambda s: pd.Period(s[:4] + "-" + s[-2:] if len(s) > 4 else s + "-12", "M"))
    return frame[ends <= origin]


def _year_total(mixed: forecasting.mixed.MixedMonthly, year: int) -> float:
    """The year's total from the months and unresolved totals, NaN unless they cover it."""
    months = pd.period_range(f"{year}-01", f"{year}-12", freq="M")
    in_spans: set[pd.Period] = set()
    total = 0.0
    for start, end, value in mixed.aggregates.itertuples(index=False):
        if start.year == year:
            in_spans |= set(pd.period_range(start, end, freq="M"))
            total += value
    rest = [p for p in months if p not in in_spans]
    known = mixed.y.reindex(rest)
    return float("nan") if known.isna().any() else total + float(known.sum())


def run_gacc(path: str) -> None:
    frame = pd.read_csv(path)
    full = monthly_from_reports(frame["period"], frame["total_usd_bn"], name="cn_ru_total")
    for origin in (pd.Period("2021-12", "M"), pd.Period("2022-12", "M")):
        part = _reports_until(frame, origin)
        mixed = monthly_from_reports(part["period"], part["total_usd_bn"], name="cn_ru_total")
        target = pd.period_range(origin + 1, origin + HORIZON, freq="M")
        actual = full.y.reindex(target).dropna()
        year_total = _year_total(full, origin.year + 1)
        for seasonal, use in itertools.product((True, False), (True, False)):
            try:
                # Long enough to reach the target year from the last month any kept report covers.
                out = forecast_mixed(mixed, 2 * HORIZON, (95,), use_totals=use, seasonal=seasonal)
            except ForecastingError as exc:
                logger.info("origin %s seasonal=%s use_totals=%s: %s", origin, seasonal, use, exc)
                continue
            fc = out.forecast.reindex(target)
            mae, cover = _score(fc, actual)
            logger.info(
                "origin %s seasonal=%s use_totals=%s: %d totals, %d months; MAE %.2f bn on the %d known months of "
                "%d, 95%% coverage %.2f; forecast of the year's total %.1f bn (published %.1f)",
                origin,
                seasonal,
                use,
                len(out.totals_used),
                out.params["n_months"],
                mae,
                len(actual),
                origin.year + 1,
                cover,
                float(fc["mean"].sum()),
                year_total,
            )
    for use in (True, False):
        out = forecast_mixed(full, 6, (95,), use_totals=use)
        y24 = out.estimates.loc[pd.Period("2024-01", "M") : pd.Period("2024-12", "M")]
        logger.info(
            "full file use_totals=%s: 2024 sum of months/estimates %.1f bn (%d of 12 estimated); forecast %s..%s "
            "mean %s, 95%% width at 6 months %.1f",
            use,
            float(y24["mean"].sum()),
            int((y24["status"] == "estimated").sum()),
            out.forecast.index[0],
            out.forecast.index[-1],
            np.round(out.forecast["mean"].to_numpy(), 2).tolist(),
            float(out.forecast["hi_95"].iloc[-1] - out.forecast["lo_95"].iloc[-1]),
        )


def load_russia_china(path: str) -> pd.DataFrame:
    """Russia's monthly exports to and imports from China (million USD, FCS), 2006-2021."""
    data = pd.read_csv(path)
    china = data[data["partner_en"] == "China"]
    wide = china.pivot_table(index=["year", "month"], columns="flow_russia", values="value_musd")
    wide.index = pd.PeriodIndex([pd.Period(year=y, month=m, freq="M") for y, m in wide.index], name="ds")
    return wide.rename(columns={"export": "exports_to_cn", "import": "imports_from_cn"})[
        ["exports_to_cn", "imports_from_cn"]
    ].astype(float)


def run_var(path: str) -> None:
    """VAR/VECM of Russia's exports to and imports from China: two origins, and the responses."""
    frame = load_russia_china(path)
    for origin in (pd.Period("2019-12", "M"), pd.Period("2020-12", "M")):
        train, test = frame[:origin], frame[origin + 1 : origin + HORIZON]
        fc = forecast_var(train, HORIZON, (95,))
        spec = fc.attrs["spec"]
        for column in frame.columns:
            part = fc[fc["unique_id"] == column].set_index("ds")
            mae, cover = _score(part, test[column])
            uni = forecasting.forecast(train[column], HORIZON, (95,), model="auto")
            mae_uni, cover_uni = _score(uni, test[column])
            logger.info(
                "origin %s %s: %s lags=%d rank=%s; MAE %.0f (univariate auto %.0f) million USD, 95%% coverage %.2f "
                "(%.2f)",
                origin,
                column,
                spec.model,
                spec.lags,
                spec.coint_rank,
                mae,
                mae_uni,
                cover,
                cover_uni,
            )
    ir = impulse_responses(frame, 12, 95)
    for row in ir[ir["step"].isin([0, 1, 3, 6, 12])].itertuples(index=False):
        logger.info(
            "shock %s -> %s step %d: %.3f [%.3f, %.3f]",
            row.impulse,
            row.response,
            row.step,
            row.irf,
            row.lo_95,
            row.hi_95,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.mixed_bench", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulated", help="(a) simulated months + YTD totals, with vs without the totals")
    sim.add_argument("--series", type=int, default=40)
    gacc = sub.add_parser("gacc", help="(b) the GACC China-Russia series")
    gacc.add_argument("--data", required=True)
    var = sub.add_parser("var", help="(c) VAR/VECM of Russia's exports to and imports from China")
    var.add_argument("--data", required=True, help="russia_fcs_trade_by_partner_monthly_2006_2021.csv")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    start = time.perf_counter()
    if args.command == "simulated":
        for key, value in run_simulated(args.series).items():
            logger.info("%s = %.4f", key, value)
    elif args.command == "gacc":
        run_gacc(args.data)
    else:
        run_var(args.data)
    logger.info("%.0f s", time.perf_counter() - start)


if __name__ == "__main__":
    main()
