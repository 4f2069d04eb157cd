"""The M3 benchmarks: accuracy, interval checks and single-forecast latency.

Run from the repository root (``make bench`` passes the Makefile's ``M3_DIR``)::

    python -m bench.cli m3 --data <m3 folder>/m3.csv.gz [--period other] [--model auto]
    python -m bench.cli latency --data <m3 folder>/m3.csv.gz

The M3 files are read where they lie and never copied into the project.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from bench.m3 import (
    COVERAGE_BOUNDS,
    M3Series,
    interval_checks,
    load_m3,
    load_published,
    published_frame,
    run_m3,
    score_m3,
)
from forecasting import forecast
from forecasting.registry import list_models

__all__ = ["app", "main"]

app = typer.Typer(
    help="Benchmarks: accuracy and speed on the M3 competition data.", no_args_is_help=True, add_completion=False
)

PUBLISHED_NAME = "m3_published_forecasts.csv.gz"
DEFAULT_MODELS = ["auto", "ensemble", "ets", "arima", "theta", "naive2"]
PERIOD_NAMES = ("yearly", "quarterly", "monthly", "other", "all")


def _check_inputs(models: Sequence[str], paths: Sequence[Path]) -> None:
    """Refuse unknown models and missing files before any fitting starts."""
    unknown = [m for m in models if m not in list_models()]
    if unknown:
        raise typer.BadParameter(f"unknown model(s) {unknown}; choose from {list_models()}", param_hint="--model")
    for path in paths:
        if not path.exists():
            raise typer.BadParameter(f"{path} does not exist", param_hint="--data/--published")


def _progress(name: str, done: int, total: int) -> None:
    # Only on a terminal: a redirected log would fill with carriage-return lines.
    if sys.stderr.isatty():
        typer.echo(f"\r  {name}: {done}/{total}", nl=done == total, err=True)


def _score(
    series: list[M3Series], models: Sequence[str], published: Path, n_jobs: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast and score every model, with the published competitors' point forecasts."""
    forecasts, wall = run_m3(series, models, n_jobs=n_jobs, progress=_progress)
    pub = published_frame(series, load_published(published))
    scores = score_m3(pd.concat([forecasts, pub], ignore_index=True), series)
    scores["wall_s"] = pd.Series(wall)
    scores["series_per_s"] = len(series) / scores["wall_s"]
    return forecasts, scores


def _echo_scores(scores: pd.DataFrame) -> None:
    """Print the accuracy table, then the interval scores per period."""
    point = [c for c in scores.columns if c.startswith(("smape_", "mase_"))]
    overall = [c for c in ("cov80_all", "cov95_all", "msis95_all") if c in scores.columns]
    typer.echo("Accuracy (sMAPE %, MASE), overall intervals, speed")
    typer.echo(scores[[*point, *overall, "wall_s", "series_per_s"]].round(3).to_string())
    interval_cols = [c for c in scores.columns if c.startswith(("cov", "msis", "width"))]
    if not interval_cols:
        return
    typer.echo("\nIntervals per period: coverage %, MSIS, mean width / mean level")
    table = scores[interval_cols].dropna(how="all").round(3)
    for period_name in PERIOD_NAMES:
        cols = [c for c in interval_cols if c.endswith("_" + period_name)]
        if cols:
            typer.echo(f"[{period_name}]")
            typer.echo(table[cols].to_string())


def _echo_checks(scores: pd.DataFrame, out: Path) -> None:
    """Print and save ``auto``'s interval acceptance checks, when ``auto`` was scored."""
    if "auto" not in scores.index or "cov80_all" not in scores.columns:
        return
    checks = interval_checks(scores)
    checks.to_csv(out / "m3_interval_checks.csv")
    bounds = " and ".join(f"{lo:g}-{hi:g}% at {lv}%" for lv, (lo, hi) in COVERAGE_BOUNDS.items())
    typer.echo(
        f"\nauto's interval checks: coverage within {bounds}, MSIS below the"
        " uncalibrated ets and arima run here (msis*_vs_*: auto minus the reference)"
    )
    typer.echo(checks.to_string())


@app.command("m3")
def bench_m3(
    data: Path = typer.Option(..., "--data", help="M3 observations (m3.csv.gz)."),
    published: Path | None = typer.Option(
        None,
        "--published",
        help=f"Published competitors' forecasts (THETA, ForecastPro); default {PUBLISHED_NAME} next to --data.",
    ),
    period: list[str] = typer.Option(
        [], "--period", help="Restrict to yearly, quarterly, monthly or other (repeatable)."
    ),
    sample: int | None = typer.Option(None, "--sample", help="Score about N series spread over the set."),
    model: list[str] = typer.Option(
        [], "--model", help="Model to score (repeatable). Default: " + ", ".join(DEFAULT_MODELS)
    ),
    n_jobs: int = typer.Option(-1, "--n-jobs", help="Worker processes (-1: all cores)."),
    out: Path = typer.Option(Path("var/bench"), "--out", help="Folder for the forecasts CSV and the score table."),
) -> None:
    """Fit every M3 series' train part, forecast its test part and print sMAPE, MASE, coverage, MSIS, time.

    With auto among the models, it ends with auto's interval checks per period.

    Coverage must lie within 77-83% (80%) and 93-97% (95%); MSIS below the run's ets and arima.
    """
    models = model or DEFAULT_MODELS
    published = published or data.parent / PUBLISHED_NAME
    _check_inputs(models, (data, published))
    series = load_m3(data, periods=period or None, sample=sample)
    typer.echo(f"M3: {len(series)} series; models: {', '.join(models)}", err=True)
    started = time.perf_counter()
    forecasts, scores = _score(series, models, published, n_jobs)
    out.mkdir(parents=True, exist_ok=True)
    forecasts.to_csv(out / "m3_forecasts.csv", index=False)
    scores.to_csv(out / "m3_scores.csv")
    with pd.option_context("display.width", 250, "display.max_columns", 60, "display.precision", 3):
        _echo_scores(scores)
        _echo_checks(scores, out)
    fallbacks = forecasts[forecasts["fitted_model"] != forecasts["model"]].groupby("model")["unique_id"].nunique()
    for name, count in fallbacks.items():
        typer.echo(f"note: {name} fell back to naive2 on {count} series", err=True)
    typer.echo(
        f"total wall time {time.perf_counter() - started:.1f} s; forecasts in {out / 'm3_forecasts.csv'}", err=True
    )


@app.command("latency")
def bench_latency(
    data: Path = typer.Option(..., "--data", help="M3 observations (m3.csv.gz)."),
    model: str = typer.Option("auto", "--model", help="Model to time."),
    length: int = typer.Option(30, "--length", help="Use the last LENGTH points of each yearly series."),
    count: int = typer.Option(20, "--count", help="Number of series timed."),
) -> None:
    """Time single forecasts of annual series in a warm process (median and max)."""
    series = [s for s in load_m3(data, periods=["yearly"]) if len(s.train) >= length][:count]
    if not series:
        raise typer.BadParameter(f"no yearly series has {length} points", param_hint="--length")
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecast(series[0].train.iloc[-length:], 6, model=model)  # warm-up: imports and JIT compilation
        for s in series:
            started = time.perf_counter()
            forecast(s.train.iloc[-length:], 6, model=model)
            times.append(time.perf_counter() - started)
    typer.echo(
        f"{model}: {len(times)} annual series of {length} points, horizon 6: "
        f"median {np.median(times):.3f} s, max {max(times):.3f} s"
    )


def main() -> None:
    """Entry point of ``python -m bench.cli``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
