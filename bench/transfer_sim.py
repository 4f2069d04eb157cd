"""Short series of a known generating process, for the interval checks of ``bench.transfer``.

Each series has 8 to 15 annual observations (``n`` uniform) and 6 values to forecast, drawn
from one of three processes on the log scale (economic levels: positive, growing, with
multiplicative noise), all parameters drawn per series:

- ``rw_drift``: a random walk with drift, growth g ~ U(-0.03, 0.10), shock sd ~ U(0.02, 0.25);
- ``ar_trend``: a linear trend (g as above) plus an AR(1) deviation, phi ~ U(0, 0.9), shock sd
  ~ U(0.02, 0.2);
- ``local_trend``: a local linear trend whose growth itself is a random walk (growth shock sd
  ~ U(0.005, 0.04), level shock sd ~ U(0.01, 0.15)).

The values are exp(log level) times 100. The split is ``sim`` (one origin, the end of the
observations). Seeds: ``--seed 0`` is the reporting set; choosing sets use other seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.transfer import Case

__all__ = ["PROCESSES", "simulate_series", "simulated_cases"]

PROCESSES = ("rw_drift", "ar_trend", "local_trend")
HORIZON = 6


def simulate_series(process: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values of ``process`` (module docstring), positive."""
    if process == "rw_drift":
        g, sd = rng.uniform(-0.03, 0.10), rng.uniform(0.02, 0.25)
        log = np.cumsum(g + sd * rng.standard_normal(n))
    elif process == "ar_trend":
        g, phi, sd = rng.uniform(-0.03, 0.10), rng.uniform(0.0, 0.9), rng.uniform(0.02, 0.2)
        dev = np.zeros(n)
        dev[0] = sd / np.sqrt(1 - phi**2) * rng.standard_normal()
        for t in range(1, n):
            dev[t] = phi * dev[t - 1] + sd * rng.standard_normal()
        log = g * np.arange(n) + dev
    elif process == "local_trend":
        g0, sg, sl = rng.uniform(-0.03, 0.10), rng.uniform(0.005, 0.04), rng.uniform(0.01, 0.15)
        growth = g0 + np.cumsum(sg * rng.standard_normal(n))
        log = np.cumsum(growth + sl * rng.standard_normal(n))
    else:
        raise ValueError(f"unknown process {process!r}; choose one of {PROCESSES}")
    return np.asarray(100.0 * np.exp(log))


def simulated_cases(count: int, seed: int = 0) -> list[Case]:
    """``count`` simulated cases (processes in turn), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        process = PROCESSES[i % len(PROCESSES)]
        n = int(rng.integers(8, 16))
        values = simulate_series(process, n + HORIZON, rng)
        index = pd.period_range("2000", periods=n, freq="Y")
        sid = f"{process}_{seed}_{i}"
        train = pd.Series(values[:n], index=index, name=sid)
        out.append(Case(f"sim{seed}", sid, "sim", "end", train, values[n:], HORIZON, 1, HORIZON))
    return out
