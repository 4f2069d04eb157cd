"""R's ``forecast`` package as references of the trade benchmark (issue 25), through ``Rscript``.

``r_ets`` (``forecast::ets``), ``r_arima`` (``auto.arima``) and ``r_theta`` (``thetaf``), each
with the package's defaults and the series' season length as the ``ts`` frequency; ``r_mean``
is their mean (point forecasts and bounds averaged, like ``sf_mean``), formed when scoring.

Cases go to R in chunks: one ``Rscript`` process per chunk, the series written to a CSV file
(long format: key, season, horizon, t, value) and the forecasts read back from a CSV file (key,
method, step, mean and the 80/95% bounds). A method R could not fit for a case is recorded as
``failed:<method>`` (scored as Naive2, like the Python methods' failures). The forecasts are
cached per case in ``<key>.r.pkl`` next to the case's Python forecasts, so the R run and the
Python run never write the same file. Without ``Rscript`` on the PATH the R references are
skipped and the benchmark says so.

Install on Debian/Ubuntu: ``apt-get install r-base-core r-cran-forecast``.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bench.trade import Case, Forecast

R_METHODS = ("r_ets", "r_arima", "r_theta")
INSTALL_HINT = "R references skipped: Rscript not found (Debian: apt-get install r-base-core r-cran-forecast)"

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(forecast))
d <- read.csv(args[1], stringsAsFactors = FALSE)
methods <- strsplit(args[3], ",")[[1]]
fit_one <- function(y, h, method) {
  if (method == "r_ets") return(forecast(ets(y), h = h, level = c(80, 95)))
  if (method == "r_arima") return(forecast(auto.arima(y), h = h, level = c(80, 95)))
  if (method == "r_theta") return(thetaf(y, h = h, level = c(80, 95)))
  stop(paste("unknown method", method))
}
out <- list()
for (k in unique(d$key)) {
  s <- d[d$key == k, ]
  s <- s[order(s$t), ]
  y <- ts(s$value, frequency = s$season[1])
  h <- s$horizon[1]
  for (method in methods) {
    fc <- tryCatch(suppressWarnings(fit_one(y, h, method)), error = function(e) NULL)
    if (is.null(fc)) next
    out[[length(out) + 1]] <- data.frame(
      key = k, method = method, step = seq_len(h), mean = as.numeric(fc$mean),
      lo_80 = as.numeric(fc$lower[, 1]), hi_80 = as.numeric(fc$upper[, 1]),
      lo_95 = as.numeric(fc$lower[, 2]), hi_95 = as.numeric(fc$upper[, 2])
    )
  }
}
cols <- c("key", "method", "step", "mean", "lo_80", "hi_80", "lo_95", "hi_95")
res <- if (length(out)) do.call(rbind, out) else setNames(data.frame(matrix(nrow = 0, ncol = 8)), cols)
write.csv(res, args[2], row.names = FALSE)
"""


def rscript() -> str | None:
    """The path of ``Rscript``, or None when R is not installed."""
    return shutil.which("Rscript")


def r_cache_path(case: Case, cache: Path) -> Path:
    """Where the R forecasts of ``case`` are cached."""
    return cache / f"{case.key}.r.pkl"


def load_r_cached(case: Case, cache: Path) -> dict[str, Forecast]:
    """The cached R forecasts of one case (empty when none)."""
    path = r_cache_path(case, cache)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return dict(pickle.load(fh))


def series_frame(cases: Sequence[Case]) -> pd.DataFrame:
    """The long CSV layout the R script reads: one row per observation."""
    frames = [
        pd.DataFrame(
            {"key": case.key, "season": case.season_length, "horizon": case.horizon}
            | {"t": np.arange(1, len(case.train) + 1), "value": case.train.to_numpy(dtype=float)}
        )
        for case in cases
    ]
    return pd.concat(frames, ignore_index=True)


def parse_forecasts(
    frame: pd.DataFrame, cases: Sequence[Case], methods: Sequence[str]
) -> dict[str, dict[str, Forecast]]:
    """Per case key: method -> forecast (``failed:<method>`` where R returned none)."""
    cols = ["mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    grouped = {key: part for key, part in frame.groupby(["key", "method"], sort=False)} if len(frame) else {}
    out: dict[str, dict[str, Forecast]] = {}
    for case in cases:
        stored: dict[str, Forecast] = {}
        for method in methods:
            part = grouped.get((case.key, method))
            if part is None or len(part) != case.horizon or part[cols].isna().to_numpy().any():
                stored[f"failed:{method}"] = {}
                continue
            part = part.sort_values("step")
            stored[method] = {c: part[c].to_numpy(dtype=float) for c in cols}
        out[case.key] = stored
    return out


def run_chunk(cases: Sequence[Case], methods: Sequence[str], cache: Path, executable: str) -> int:
    """Forecast ``cases`` in one R process and cache the results; returns the number of failures."""
    with tempfile.TemporaryDirectory(prefix="trade_r_") as tmp:
        src, dst, script = Path(tmp) / "series.csv", Path(tmp) / "forecasts.csv", Path(tmp) / "fit.R"
        series_frame(cases).to_csv(src, index=False)
        script.write_text(R_SCRIPT)
        subprocess.run(
            [executable, "--vanilla", str(script), str(src), str(dst), ",".join(methods)],
            check=True,
            capture_output=True,
        )
        results = parse_forecasts(pd.read_csv(dst), cases, methods)
    failures = 0
    for case in cases:
        stored = load_r_cached(case, cache) | results[case.key]
        failures += sum(k.startswith("failed:") for k in results[case.key])
        path = r_cache_path(case, cache)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = path.with_suffix(".tmp")
        with tmp_path.open("wb") as fh:
            pickle.dump(stored, fh)
        tmp_path.replace(path)
    return failures


def todo(cases: Sequence[Case], methods: Sequence[str], cache: Path) -> list[Case]:
    """The cases with an R method not yet cached."""
    out = []
    for case in cases:
        stored = load_r_cached(case, cache)
        if not all(m in stored or f"failed:{m}" in stored for m in methods):
            out.append(case)
    return out


def forget_r(cases: Sequence[Case], names: Sequence[str], cache: Path) -> None:
    """Drop the cached R forecasts of ``names``."""
    for case in cases:
        stored = load_r_cached(case, cache)
        drop = [k for k in stored if k.removeprefix("failed:") in names]
        if drop:
            for k in drop:
                del stored[k]
            with r_cache_path(case, cache).open("wb") as fh:
                pickle.dump(stored, fh)


def run_r(
    cases: Sequence[Case], n_jobs: int, cache: Path, chunk: int = 20, say: Callable[[str], None] = print
) -> float:
    """Forecast every case not yet cached with the R methods, ``chunk`` cases per R process on
    the project executor; returns wall seconds (0 when R is missing, after saying so)."""
    from forecasting.executor import get_executor

    executable = rscript()
    if executable is None:
        say(INSTALL_HINT)
        return 0.0
    pending = todo(cases, R_METHODS, cache)
    # The benchmark's fixed shuffle, then the fast fits first (R's annual and short monthly fits take
    # about a tenth of the long monthly ones), reporting origins before choosing ones: a run stopped
    # early has the references where the figures are reported.
    pending = [pending[i] for i in np.random.default_rng(0).permutation(len(pending))]
    pending.sort(key=lambda case: (case.set_name == "russia_monthly", case.split == "choose"))
    chunks = [pending[i : i + chunk] for i in range(0, len(pending), chunk)]
    say(f"R ({executable}): {len(pending)} cases to forecast with {', '.join(R_METHODS)} in {len(chunks)} chunks")
    started = time.perf_counter()
    if not chunks:
        return 0.0
    with get_executor(n_jobs, n_tasks=len(chunks)) as executor:
        tasks = ((i, partial(run_chunk, part, R_METHODS, cache, executable)) for i, part in enumerate(chunks))
        for done, (_, result) in enumerate(executor.stream(tasks), start=1):
            failed = result.unwrap()
            say(f"  R chunk {done}/{len(chunks)} in {time.perf_counter() - started:.0f} s ({failed} failed fits)")
    return time.perf_counter() - started
