"""Compare two M3 forecast files (``var/bench/m3_forecasts.csv``) of the same run set-up.

Used to show that a change leaves the benchmark's forecasts unchanged: both files must hold
the same (model, series, step) rows, and every forecast column (``mean``, ``lo_<L>``,
``hi_<L>``) must agree within ``--tol``. Run from the repository root::

    python -m bench.compare_forecasts OLD.csv NEW.csv [--tol 1e-9]

Prints the maximum absolute difference per column (and per model); exits 1 when the rows
differ or a difference exceeds the tolerance.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Comparison", "compare_forecasts", "main"]

KEYS = ["model", "unique_id", "h"]


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_forecasts`."""

    rows: int
    missing: int
    max_abs: pd.DataFrame  # model x forecast column: maximum absolute difference
    tol: float

    @property
    def ok(self) -> bool:
        """Same rows, and every difference within the tolerance (NaN only where both are NaN)."""
        return self.missing == 0 and bool((self.max_abs.to_numpy() <= self.tol).all())


def _forecast_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c == "mean" or c.startswith(("lo_", "hi_"))]


def compare_forecasts(old: pd.DataFrame, new: pd.DataFrame, tol: float = 1e-9) -> Comparison:
    """Match the rows of two forecast frames on (model, unique_id, h) and measure the differences.

    A value that is NaN in one frame and not in the other counts as an infinite difference.
    """
    columns = _forecast_columns(old)
    if set(columns) != set(_forecast_columns(new)):
        raise ValueError(f"forecast columns differ: {columns} vs {_forecast_columns(new)}")
    merged = old[[*KEYS, *columns]].merge(
        new[[*KEYS, *columns]], on=KEYS, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    missing = int((merged["_merge"] != "both").sum())
    both = merged[merged["_merge"] == "both"]
    diffs = pd.DataFrame({"model": both["model"]})
    for col in columns:
        a, b = both[f"{col}_old"].to_numpy(dtype=float), both[f"{col}_new"].to_numpy(dtype=float)
        diff = np.abs(a - b)
        # NaN on both sides is agreement; on one side only, an unbounded difference.
        diff = np.where(np.isnan(a) & np.isnan(b), 0.0, diff)
        diffs[col] = np.where(np.isnan(diff), np.inf, diff)
    max_abs = diffs.groupby("model").max() if len(diffs) else pd.DataFrame(columns=columns)
    return Comparison(rows=len(both), missing=missing, max_abs=max_abs, tol=tol)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path, help="Forecasts of the reference run.")
    parser.add_argument("new", type=Path, help="Forecasts of the run to check.")
    parser.add_argument("--tol", type=float, default=1e-9, help="Largest allowed absolute difference.")
    args = parser.parse_args(argv)
    result = compare_forecasts(pd.read_csv(args.old), pd.read_csv(args.new), tol=args.tol)
    with pd.option_context("display.width", 200, "display.float_format", "{:.3g}".format):
        sys.stdout.write(f"{result.rows} matching rows; {result.missing} rows in only one file\n")
        sys.stdout.write("max |old - new| per model and column:\n" + result.max_abs.to_string() + "\n")
    overall = float(result.max_abs.to_numpy().max()) if result.max_abs.size else 0.0
    verdict = "identical within" if result.ok else "DIFFERENT beyond"
    sys.stdout.write(f"max abs difference {overall:.3g}: {verdict} tolerance {args.tol:g}\n")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
