"""Say when a forecast rests on thin evidence.

Three conditions are worth a sentence next to the numbers, each a
:class:`~forecasting.exceptions.ForecastingWarning` subclass with its own ``code``:

- ``thin_evidence`` (:class:`~forecasting.exceptions.ThinEvidenceWarning`): fewer published
  values than :func:`min_evidence` asks for the frequency: ``max(12, 2 * season_length)``,
  i.e. 12 for annual and quarterly data (twelve years, three full years) and 24 for monthly
  data (two full seasons). Below that the model's parameters, and so its band, are
  estimated from too little to be checked.
- ``sparse_series`` (:class:`~forecasting.exceptions.SparseSeriesWarning`): a sparse
  publication, at least :data:`SPARSE_SHARE` of the periods from the first to the last
  published value without a figure (the yuan settlement share: 8 published months out of
  25).
- ``backtest_coverage`` (:class:`~forecasting.exceptions.BacktestCoverageWarning`): the
  series' own backtest intervals covered a share of the outcomes more than
  :data:`COVERAGE_SES` binomial standard errors away from the nominal level
  (``|k / n - p| > 2 * sqrt(p (1 - p) / n)``, ``n >= 5`` outcomes). With 9 outcomes that
  flags an 80% interval covering 4 or fewer (44%), and a 95% interval covering 7 or fewer.
  The outcomes of overlapping windows are correlated, so the true standard error is larger:
  the rule flags only clear misses.

:func:`warn_evidence` runs inside every forecasting entry point (:func:`~forecasting.forecast`,
:func:`~forecasting.forecast_outlook`, :func:`~forecasting.forecast_scenarios`,
:func:`~forecasting.simulate`), through :func:`~forecasting.core.describe_output`, after the
fit succeeded; :func:`warn_backtest_coverage` runs at the end of
:func:`~forecasting.backtest`. REST, the command line and reports show what they emit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.exceptions import BacktestCoverageWarning, SparseSeriesWarning, ThinEvidenceWarning
from forecasting.frames import MODEL, Y, hi_col, levels_in, lo_col
from forecasting.validation import infer_season_length

__all__ = [
    "COVERAGE_SES",
    "MIN_COVERAGE_OUTCOMES",
    "SPARSE_SHARE",
    "CoverageCheck",
    "check_coverage",
    "evidence_warnings",
    "min_evidence",
    "warn_backtest_coverage",
    "warn_evidence",
]

#: A publication is sparse when at least this share of its periods has no value.
SPARSE_SHARE = 0.25

#: Binomial standard errors between backtest coverage and the nominal level that earn a warning.
COVERAGE_SES = 2.0

#: Fewer backtest outcomes than this say too little to warn about.
MIN_COVERAGE_OUTCOMES = 5


def min_evidence(season_length: int) -> int:
    """Published values below which a forecast is flagged ``thin_evidence``: ``max(12, 2 m)``."""
    return max(12, 2 * int(season_length))


def _unit(y: pd.Series) -> str:
    freq = getattr(y.index, "freqstr", "") or ""
    if freq.upper().startswith(("Y", "A")):
        return "years"
    if freq.upper().startswith("Q"):
        return "quarters"
    if freq.upper().startswith("M"):
        return "months"
    return "observations"


def evidence_warnings(y: pd.Series) -> list[Warning]:
    """The ``thin_evidence`` and ``sparse_series`` warnings ``y`` deserves (empty when none).

    Parameters
    ----------
    y : pd.Series
        The series as given to the forecast, gaps (NaN) included.

    Returns
    -------
    list of ThinEvidenceWarning or SparseSeriesWarning
    """
    values = y.to_numpy(dtype=float)
    published = np.flatnonzero(~np.isnan(values))
    if not published.size:
        return []
    n, unit = int(published.size), _unit(y)
    span = int(published[-1] - published[0] + 1)
    out: list[Warning] = []
    if span - n >= SPARSE_SHARE * span:
        out.append(
            SparseSeriesWarning(
                f"a sparse publication: {n} published {unit} out of the {span} from {y.index[published[0]]} "
                f"to {y.index[published[-1]]} ({span - n} without a figure); the model fits through the gaps, "
                "and what happened in them is not known."
            )
        )
    needed = min_evidence(infer_season_length(y.index))
    if n < needed:
        out.append(
            ThinEvidenceWarning(
                f"the forecast is based on {n} published {unit} (fewer than {needed}); the band reflects "
                "model uncertainty only if the model is right, and so few points cannot show whether it is."
            )
        )
    return out


def warn_evidence(y: pd.Series) -> None:
    """Emit :func:`evidence_warnings` of ``y``."""
    for warning in evidence_warnings(y):
        warnings.warn(warning, stacklevel=3)


@dataclass(frozen=True)
class CoverageCheck:
    """How often one model's backtest intervals at one level held.

    Attributes
    ----------
    model : str
    level : int
    covered, outcomes : int
        Outcomes inside the interval, and outcomes scored.
    standard_error : float
        Binomial standard error of the coverage at the nominal level, ``sqrt(p (1 - p) / n)``.
    """

    model: str
    level: int
    covered: int
    outcomes: int
    standard_error: float

    @property
    def coverage(self) -> float:
        """The share of outcomes covered."""
        return self.covered / self.outcomes

    @property
    def is_far(self) -> bool:
        """Whether coverage is more than :data:`COVERAGE_SES` standard errors from the level."""
        if self.outcomes < MIN_COVERAGE_OUTCOMES:
            return False
        return abs(self.coverage - self.level / 100.0) > COVERAGE_SES * self.standard_error


def check_coverage(frame: pd.DataFrame) -> list[CoverageCheck]:
    """Coverage of every model and level of a :func:`~forecasting.backtest` frame.

    Rows whose actual ``y`` is missing are not scored.
    """
    checks = []
    levels = levels_in(list(frame.columns))
    for model, part in frame.groupby(MODEL, sort=False):
        actual = part[Y].to_numpy(dtype=float)
        scored = ~np.isnan(actual)
        n = int(scored.sum())
        if not n:
            continue
        for lv in levels:
            lo, hi = part[lo_col(lv)].to_numpy(dtype=float), part[hi_col(lv)].to_numpy(dtype=float)
            covered = int(np.sum((actual >= lo) & (actual <= hi) & scored))
            p = lv / 100.0
            checks.append(CoverageCheck(str(model), int(lv), covered, n, float(np.sqrt(p * (1 - p) / n))))
    return checks


def warn_backtest_coverage(frame: pd.DataFrame) -> None:
    """Emit a :class:`BacktestCoverageWarning` for each model and level whose coverage is far
    from nominal (see the module docstring for the rule)."""
    for check in check_coverage(frame):
        if not check.is_far:
            continue
        side = "less" if check.coverage < check.level / 100.0 else "more"
        warnings.warn(
            BacktestCoverageWarning(
                f"backtest of {check.model!r}: the {check.level}% intervals covered {check.covered} of "
                f"{check.outcomes} outcomes ({check.coverage:.0%}), far {side} often than {check.level}% "
                f"(more than {COVERAGE_SES:g} binomial standard errors, {check.standard_error:.0%} each); "
                "read the bands with caution."
            ),
            stacklevel=3,
        )
