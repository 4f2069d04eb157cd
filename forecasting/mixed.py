"""Mixed reporting: monthly figures alongside year-to-date and annual totals, no month invented.

Customs offices and the press often publish a month's figure only for some months, and
otherwise a cumulative total from January (``2017-01..05``: January to May) or a calendar
year. :func:`monthly_from_reports` reads such a mix into a monthly series on which the
state-space models fit with ``missing="model"``:

- a reported month is kept as it is;
- a month is *derived* only when the reports determine it exactly: two cumulative totals
  of the same year (``C_a``, ``C_b``, with ``C_0 = 0``) give the sum of months ``a+1..b``,
  and when all but one of those months are known the remaining one is that sum minus the
  others (``Jan..Mar`` minus ``Jan..Feb`` is March; ``Jan..Dec`` minus a reported
  ``Jan..Nov`` is December). This is repeated until nothing more follows;
- every other month stays missing (NaN): it is not interpolated or spread out.

The totals that do not resolve into single months (``Jan..May`` when only April is
known, say) are returned as :attr:`MixedMonthly.aggregates`: sums over several months that
the monthly model does not use. They are information left on the table, not a
contradiction; ``docs/drivers.md`` says how a cumulator state would use them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.exceptions import InvalidSeriesError

__all__ = ["MixedMonthly", "monthly_from_reports"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YTD = re.compile(r"^(\d{4})-01\.\.(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
#: Relative tolerance when a reported month disagrees with what the totals imply.
_TOLERANCE = 0.01


@dataclass(frozen=True)
class MixedMonthly:
    """A monthly series read from mixed reports.

    Attributes
    ----------
    y : pd.Series
        Monthly ``PeriodIndex`` from the first to the last month covered; NaN where no
        month is reported or exactly derived.
    derived : list of pd.Period
        The months computed from cumulative totals (the others are reported).
    aggregates : pd.DataFrame
        ``start, end, total``: published totals over ``start..end`` that leave two or more
        of those months unresolved (the total includes any known month of the span).
    notes : list of str
        Reported months that disagree with the totals by more than 1% (kept as reported).
    """

    y: pd.Series
    derived: list[pd.Period] = field(default_factory=list)
    aggregates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["start", "end", "total"]))
    notes: list[str] = field(default_factory=list)


def _read(
    periods: Iterable[str], values: Iterable[float]
) -> tuple[dict[pd.Period, float], dict[int, dict[int, float]]]:
    months: dict[pd.Period, float] = {}
    cumulative: dict[int, dict[int, float]] = {}
    for label, value in zip(periods, values, strict=True):
        text = str(label).strip()
        if value is None or not np.isfinite(float(value)):
            continue
        if m := _MONTH.match(text):
            months[pd.Period(text, freq="M")] = float(value)
        elif m := _YTD.match(text):
            cumulative.setdefault(int(m.group(1)), {})[int(m.group(2))] = float(value)
        elif m := _YEAR.match(text):
            cumulative.setdefault(int(m.group(1)), {})[12] = float(value)
        else:
            raise InvalidSeriesError(
                f"period {text!r} is not a month ('2017-05'), a year-to-date total ('2017-01..05') or a year ('2017')."
            )
    return months, cumulative


def _resolve_year(
    year: int, known: dict[int, float], totals: dict[int, float]
) -> tuple[list[int], list[tuple[int, int, float]]]:
    """Derive the months of ``year`` that the totals determine; return them and the unresolved spans."""
    cuts = {0: 0.0, **totals}
    derived: list[int] = []
    changed = True
    while changed:
        changed = False
        points = sorted(cuts)
        for a, b in itertools.pairwise(points):
            span = range(a + 1, b + 1)
            unknown = [k for k in span if k not in known]
            if len(unknown) == 1:
                known[unknown[0]] = cuts[b] - cuts[a] - sum(known[k] for k in span if k != unknown[0])
                derived.append(unknown[0])
                changed = True
        # A cumulative total follows from the months when they are all known.
        for b in range(1, 13):
            if b not in cuts and all(k in known for k in range(1, b + 1)):
                cuts[b] = sum(known[k] for k in range(1, b + 1))
    points = sorted(cuts)
    open_spans = [
        (a + 1, b, cuts[b] - cuts[a])
        for a, b in itertools.pairwise(points)
        if sum(k not in known for k in range(a + 1, b + 1)) >= 2
    ]
    return derived, open_spans


def monthly_from_reports(periods: Iterable[str], values: Iterable[float], *, name: str = "y") -> MixedMonthly:
    """Read months, year-to-date totals and annual totals into a monthly series.

    Parameters
    ----------
    periods : iterable of str
        ``"2017-05"`` (a month), ``"2017-01..05"`` (January to May), ``"2017"`` (the year).
    values : iterable of float
        The figures; missing ones (None, NaN) are skipped.
    name : str
        Name of the series.

    Returns
    -------
    MixedMonthly
        The monthly series (NaN where nothing determines a month), the derived months,
        the unresolved totals and notes.

    Raises
    ------
    InvalidSeriesError
        A period label of another form, or nothing to read.
    """
    months, cumulative = _read(periods, values)
    derived: list[pd.Period] = []
    spans = []
    notes = []
    for year, totals in sorted(cumulative.items()):
        reported = {p.month: v for p, v in months.items() if p.year == year}
        known = dict(reported)
        found, open_spans = _resolve_year(year, known, totals)
        for k in found:
            months[pd.Period(year=year, month=k, freq="M")] = known[k]
            derived.append(pd.Period(year=year, month=k, freq="M"))
        spans += [
            (pd.Period(year=year, month=a, freq="M"), pd.Period(year=year, month=b, freq="M"), t)
            for a, b, t in open_spans
        ]
        notes += _disagreements(year, reported, totals)
    if not months:
        raise InvalidSeriesError(f"series {name!r}: no month is reported or determined by the totals.")
    index = pd.period_range(min(months), max(months), freq="M", name="ds")
    y = pd.Series([months.get(p, np.nan) for p in index], index=index, name=name, dtype=float)
    aggregates = pd.DataFrame(spans, columns=["start", "end", "total"])
    return MixedMonthly(y, sorted(derived), aggregates, notes)


def _disagreements(year: int, reported: dict[int, float], totals: dict[int, float]) -> list[str]:
    """Reported months whose sum misses a cumulative total that they cover completely."""
    out = []
    for b, total in sorted(totals.items()):
        if all(k in reported for k in range(1, b + 1)):
            implied = sum(reported[k] for k in range(1, b + 1))
            if abs(implied - total) > _TOLERANCE * max(abs(total), 1e-12):
                out.append(f"{year}-01..{b:02d}: reported months sum to {implied:.4g}, the total says {total:.4g}.")
    return out
