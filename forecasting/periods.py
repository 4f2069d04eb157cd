"""Period labels and dates → pandas periods, vectorised; the frequencies tradecast models.

Accepted period spellings (whitespace trimmed, case-insensitive ``Q``):

- annual ``2023``;
- quarterly ``2023-Q1``, ``2023Q1``, ``2023 Q1``, ``Q1 2023``;
- monthly ``2023-01``, ``2023-1``, ``2023/01``, ``202301`` (Comtrade), ``2023M01``,
  ``2023-M01``, ``2023M1`` (IMF, Eurostat), ``Jan 2023``, ``January 2023``, ``Jan-2023``,
  ``2023 Jan``, and ``2023.01`` (two-digit month only: ``2023.1`` is refused, because a
  spreadsheet or a float column turns ``2023.10`` into ``2023.1`` and a decimal year
  ``2023.5`` is not a period);
- full dates ``2023-01-31`` (optionally with a time), mapped to the period that contains
  them at the requested or inferred frequency.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "FREQUENCIES",
    "ParsedPeriods",
    "from_index",
    "frequency_of",
    "infer_date_frequency",
    "parse_period_strings",
    "period_ordinals",
    "period_strings",
]

logger = logging.getLogger(__name__)

#: Frequency names used in files, the store and the API, mapped to pandas period aliases.
FREQUENCIES: dict[str, str] = {"annual": "Y", "quarterly": "Q", "monthly": "M"}

_ANNUAL = r"^(\d{4})$"
_QUARTERLY = r"^(\d{4})\s*[-/ ]?\s*[Qq]([1-4])$"
_QUARTER_FIRST = r"^[Qq]([1-4])\s*[-/ ]?\s*(\d{4})$"
_MONTHLY = r"^(\d{4})(?:[-/]|\s*[-/ ]?\s*[Mm])(\d{1,2})$"
#: ``YYYYMM`` (Comtrade's ``period``) and ``YYYY.MM`` with exactly two month digits.
_MONTHLY_FIXED = r"^(\d{4})\.?(\d{2})$"
_MONTH_NAME_FIRST = r"^([A-Za-z]{3,9})\.?\s*[-/ ]?\s*(\d{4})$"
_MONTH_NAME_LAST = r"^(\d{4})\s*[-/ ]?\s*([A-Za-z]{3,9})\.?$"
#: English month names and their three-letter abbreviations (``Sept`` too).
MONTH_NAMES: dict[str, int] = {
    **{calendar.month_name[i].lower(): i for i in range(1, 13)},
    **{calendar.month_abbr[i].lower(): i for i in range(1, 13)},
    "sept": 9,
}
_DATE = r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?$"

#: Row classification codes of :func:`parse_period_strings`.
ANNUAL, QUARTERLY, MONTHLY, DATE, UNKNOWN = "annual", "quarterly", "monthly", "date", "unknown"


@dataclass
class ParsedPeriods:
    """Result of :func:`parse_period_strings`, aligned with the input.

    Attributes
    ----------
    form : ndarray of str
        ``annual``, ``quarterly``, ``monthly``, ``date`` or ``unknown`` per value.
    year, sub : ndarray of int
        Year and quarter/month number (0 where not applicable).
    dates : pd.DatetimeIndex
        Parsed dates where ``form == "date"`` (NaT elsewhere).
    """

    form: np.ndarray
    year: np.ndarray
    sub: np.ndarray
    dates: pd.DatetimeIndex


def parse_period_strings(values: pd.Series) -> ParsedPeriods:
    """Classify and split period strings, vectorised.

    Parameters
    ----------
    values : pd.Series
        Strings (other values are converted with ``str``).

    Returns
    -------
    ParsedPeriods
        Unparseable values get the form ``unknown`` (including month 13 or invalid dates).
    """
    s = values.astype("string").str.strip().fillna("")
    n = len(s)
    form = np.full(n, UNKNOWN, dtype=object)
    year = np.zeros(n, dtype=np.int64)
    sub = np.zeros(n, dtype=np.int64)

    annual = s.str.extract(_ANNUAL)
    m = annual[0].notna().to_numpy()
    form[m] = ANNUAL
    year[m] = annual[0][m].astype(np.int64).to_numpy()

    quarterly = s.str.extract(_QUARTERLY)
    m = quarterly[0].notna().to_numpy()
    form[m] = QUARTERLY
    year[m] = quarterly[0][m].astype(np.int64).to_numpy()
    sub[m] = quarterly[1][m].astype(np.int64).to_numpy()

    # The spellings with letters (Q1 2023, Jan 2023) are looked for only where letters are.
    lettered = s.str.contains("[A-Za-z]", regex=True).to_numpy(dtype=bool)
    if lettered.any():
        quarter_first = s.str.extract(_QUARTER_FIRST)
        m = quarter_first[0].notna().to_numpy()
        form[m] = QUARTERLY
        year[m] = quarter_first[1][m].astype(np.int64).to_numpy()
        sub[m] = quarter_first[0][m].astype(np.int64).to_numpy()
    _set_months(s.str.extract(_MONTHLY), 0, 1, form, year, sub)
    _set_months(s.str.extract(_MONTHLY_FIXED), 0, 1, form, year, sub)
    if lettered.any():
        for pattern, y_at, m_at in ((_MONTH_NAME_FIRST, 1, 0), (_MONTH_NAME_LAST, 0, 1)):
            named = s.str.extract(pattern)
            named[m_at] = named[m_at].str.lower().map(MONTH_NAMES)
            _set_months(named, y_at, m_at, form, year, sub)

    dates = pd.DatetimeIndex(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    m = s.str.match(_DATE).fillna(False).to_numpy(dtype=bool)
    if m.any():
        parsed = pd.to_datetime(s[m], errors="coerce", format="ISO8601", utc=True)
        parsed = parsed.dt.tz_localize(None)
        good = parsed.notna().to_numpy()
        idx = np.flatnonzero(m)[good]
        form[idx] = DATE
        values_ns = dates.to_numpy().copy()
        values_ns[idx] = parsed[good].to_numpy()
        dates = pd.DatetimeIndex(values_ns)
    return ParsedPeriods(form=form, year=year, sub=sub, dates=dates)


def _set_months(found: pd.DataFrame, y_at: int, m_at: int, form: np.ndarray, year: np.ndarray, sub: np.ndarray) -> None:
    """Mark as monthly the rows where ``found`` (a ``str.extract`` result) holds a year and month 1-12."""
    m = (found[y_at].notna() & found[m_at].notna()).to_numpy()
    if not m.any():
        return
    months = found[m_at][m].astype(np.int64).to_numpy()
    ok = (months >= 1) & (months <= 12)
    idx = np.flatnonzero(m)
    form[idx[ok]] = MONTHLY
    year[idx[ok]] = found[y_at][m].astype(np.int64).to_numpy()[ok]
    sub[idx[ok]] = months[ok]


def from_index(index: pd.PeriodIndex | pd.DatetimeIndex) -> ParsedPeriods:
    """The :class:`ParsedPeriods` of a pandas index, without going through text.

    Parameters
    ----------
    index : pd.PeriodIndex or pd.DatetimeIndex
        Periods at an annual, quarterly or monthly frequency, or dates (time zone dropped).

    Returns
    -------
    ParsedPeriods

    Raises
    ------
    ValueError
        If a ``PeriodIndex`` has another frequency (see :func:`frequency_of`).
    """
    n = len(index)
    year = np.zeros(n, dtype=np.int64)
    sub = np.zeros(n, dtype=np.int64)
    if isinstance(index, pd.DatetimeIndex):
        dates = index.tz_localize(None) if index.tz is not None else index
        return ParsedPeriods(form=np.full(n, DATE, dtype=object), year=year, sub=sub, dates=dates)
    frequency = frequency_of(index)
    ordinals = index.asi8
    per_year = {"annual": 1, "quarterly": 4, "monthly": 12}[frequency]
    year = ordinals // per_year + 1970
    sub = ordinals % per_year + 1 if per_year > 1 else sub
    nat = pd.DatetimeIndex(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    return ParsedPeriods(form=np.full(n, frequency, dtype=object), year=year, sub=sub, dates=nat)


def infer_date_frequency(dates: pd.DatetimeIndex) -> str | None:
    """Guess ``annual``/``quarterly``/``monthly`` from the calendar months of dates.

    Dates in distinct months whose month gaps are all multiples of 12 are annual, of 3
    quarterly, otherwise monthly. Returns ``None`` for fewer than two dates or when two
    dates fall in one month (weekly or daily data, which the store does not hold).
    """
    uniq = pd.DatetimeIndex(np.unique(dates.dropna().to_numpy()))
    if len(uniq) < 2:
        return None
    months = uniq.to_period("M").asi8
    if len(np.unique(months)) < len(months):
        return None
    gaps = np.diff(np.sort(months))
    if np.all(gaps % 12 == 0):
        return "annual"
    if np.all(gaps % 3 == 0):
        return "quarterly"
    return "monthly"


def to_periods(parsed: ParsedPeriods, rows: np.ndarray, frequency: str) -> pd.PeriodIndex:
    """Periods at ``frequency`` for the selected ``rows`` of ``parsed``.

    Rows must be of the matching form (``annual`` for annual...) or ``date``.
    """
    freq = FREQUENCIES[frequency]
    form = parsed.form[rows]
    year = parsed.year[rows]
    sub = parsed.sub[rows]
    # Ordinals since 1970 in each frequency: Y -> years, Q -> quarters, M -> months.
    if frequency == "annual":
        ordinals = year - 1970
    elif frequency == "quarterly":
        ordinals = (year - 1970) * 4 + (sub - 1)
    else:
        ordinals = (year - 1970) * 12 + (sub - 1)
    is_date = form == DATE
    if is_date.any():
        dates = parsed.dates[rows][is_date]
        ordinals = ordinals.copy()
        ordinals[is_date] = dates.to_period(freq).asi8
    return pd.PeriodIndex.from_ordinals(ordinals, freq=freq)


def frequency_of(index: pd.PeriodIndex | pd.DatetimeIndex) -> str:
    """The store frequency name of a pandas index (``Y``/``A`` → annual, ``Q`` → quarterly, ``M`` → monthly).

    Raises
    ------
    ValueError
        If the index has no frequency or an unsupported one.
    """
    freq = index.freqstr if index.freq is not None else None
    if freq is None and isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        freq = pd.infer_freq(index)
    if freq is None:
        raise ValueError("the index has no frequency; pass a PeriodIndex with freq Y, Q or M")
    head = freq.upper().lstrip("0123456789")
    if head.startswith(("Y", "A", "BY", "BA")):
        return "annual"
    if head.startswith(("Q", "BQ")):
        return "quarterly"
    if head.startswith(("M", "BM", "ME", "MS")):
        return "monthly"
    raise ValueError(f"unsupported frequency {freq!r}; expected annual, quarterly or monthly data")


def period_strings(index: pd.PeriodIndex) -> np.ndarray:
    """The canonical text of each period (``2023``, ``2023Q1``, ``2023-01``), as stored in the database."""
    return np.asarray(index.astype(str), dtype=object)


def period_ordinals(ds: Sequence[str], frequency: str) -> np.ndarray:
    """Period ordinals of labels written by :func:`period_strings` (``2023``, ``2023Q1``, ``2023-01``).

    The inverse of :func:`period_strings`, for labels in exactly that layout (the store's own).

    Parsing these fixed layouts by slicing is ~20x faster than ``pd.PeriodIndex(strings)``,
    which matters for the < 20 ms read target.
    """
    if frequency == "annual":
        return np.fromiter((int(d) - 1970 for d in ds), dtype=np.int64, count=len(ds))
    if frequency == "quarterly":
        return np.fromiter(((int(d[:4]) - 1970) * 4 + int(d[5]) - 1 for d in ds), dtype=np.int64, count=len(ds))
    return np.fromiter(((int(d[:4]) - 1970) * 12 + int(d[5:7]) - 1 for d in ds), dtype=np.int64, count=len(ds))
