"""THE series parser: observations → a validated, period-indexed float series.

Every door through which observations enter tradecast (file ingest, the store, REST
bodies, reports) calls this module, so a rule and its error code cannot drift between
doors. The rules, each with its own :class:`~forecasting.exceptions.InvalidSeriesError`
subclass and ``code``:

=================================  ============================  ==========================
rule                               exception                     code
=================================  ============================  ==========================
series id not URL-safe             InvalidSeriesIdError          ``invalid_series_id``
period missing                     EmptyPeriodError              ``empty_period``
period unreadable                  UnreadablePeriodError         ``unreadable_period``
two frequencies in one series      MixedFrequencyError           ``mixed_frequency``
frequency unknown / undecidable    UnknownFrequencyError         ``unknown_frequency``
kind unknown                       UnknownKindError              ``unknown_kind``
value not a number                 NonNumericValueError          ``non_numeric_value``
value infinite                     NonFiniteValueError           ``non_finite_value``
period given twice                 DuplicatePeriodError          ``duplicate_period``
share outside [0, 1]               ShareOutOfRangeError          ``share_out_of_range``
negative trade value               NegativeValueError            ``negative_value``
gaps where not allowed             MissingPeriodsError           ``missing_periods``
null values where not allowed      MissingValuesError            ``missing_values``
no observations                    EmptySeriesError              ``empty_series``
=================================  ============================  ==========================

Two layers share the rules:

- :func:`parse_long` is the vectorised core over long observations (``unique_id, ds, y``
  arrays), fast enough for files of thousands of series;
- :func:`parse_series` is one series on top of it.

A door says *where* a problem is through a :class:`Locator` (``line 3, column 2 (ds)``
for files, ``data[3].ds`` for JSON bodies); the parser says *what* is wrong and how to
fix it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from forecasting.exceptions import (
    DuplicatePeriodError,
    EmptyPeriodError,
    EmptySeriesError,
    InvalidSeriesError,
    InvalidSeriesIdError,
    MissingPeriodsError,
    MissingValuesError,
    MixedFrequencyError,
    NegativeValueError,
    NonFiniteValueError,
    NonNumericValueError,
    ShareOutOfRangeError,
    UnknownFrequencyError,
    UnknownKindError,
    UnreadablePeriodError,
)
from forecasting.periods import (
    DATE,
    FREQUENCIES,
    UNKNOWN,
    ParsedPeriods,
    from_index,
    infer_date_frequency,
    parse_period_strings,
    to_periods,
)

__all__ = [
    "FREQUENCIES",
    "KINDS",
    "MISSING_TEXTS",
    "SERIES_ID_PATTERN",
    "ItemLocator",
    "Locator",
    "LongObservations",
    "NumberFormat",
    "RowLocator",
    "check_complete",
    "check_frequency",
    "check_kind_name",
    "check_series_id",
    "check_values",
    "parse_long",
    "parse_series",
    "parse_values",
]

logger = logging.getLogger(__name__)

#: ``level``: amounts such as trade values (non-negative unless allowed); ``share``: in [0, 1].
KINDS: tuple[str, ...] = ("level", "share")
#: Series ids appear in URLs, so they are restricted to URL-safe characters.
SERIES_ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
#: Value texts read as a gap (case-insensitive) rather than as a non-numeric value.
MISSING_TEXTS = frozenset({"", "na", "n/a", "nan", "null", "none"})
_INFINITE_TEXTS = frozenset({"inf", "infinity"})
_ID_RULE = "use 1-100 characters from A-Z, a-z, 0-9, '_', '.', '-'"
_PERIOD_RULE = (
    "expected 2023, 2023-Q1, 2023Q1, 2023-01, 202301, 2023M01, Jan 2023, 2023.01 or a date such as 2023-01-31"
)
#: ``2023.1``, ``2023.5``: a decimal year, or ``2023.10`` after a spreadsheet or a float column dropped its zero.
_DECIMAL_YEAR = re.compile(r"\d{4}\.\d+")


class Locator(Protocol):
    """How a door names the place of an observation in its own input."""

    def where(self, row: int, field: str) -> str:
        """The place of ``field`` (``unique_id``, ``ds`` or ``y``) of observation ``row``."""
        ...

    def at(self, row: int) -> str:
        """A short reference to observation ``row`` (for "first given at ...")."""
        ...


@dataclass(frozen=True)
class ItemLocator:
    """Places in a JSON list: ``data[3].ds``; the default :class:`Locator`."""

    name: str = "data"

    def where(self, row: int, field: str) -> str:
        """``<name>[<row>].<field>``."""
        return f"{self.name}[{row}].{field}"

    def at(self, row: int) -> str:
        """``<name>[<row>]``."""
        return f"{self.name}[{row}]"


@dataclass(frozen=True)
class RowLocator:
    """Places in the observations of one named series: ``series 'x', observation 4 (ds)``."""

    series_id: str

    def where(self, row: int, field: str) -> str:
        """``series '<id>', observation <row + 1> (<field>)``."""
        return f"series {self.series_id!r}, {self.at(row)} ({field})"

    def at(self, row: int) -> str:
        """``observation <row + 1>`` (1-based, as people count)."""
        return f"observation {row + 1}"


@dataclass
class LongObservations:
    """Validated long observations, as :func:`parse_long` returns them.

    Attributes
    ----------
    codes : ndarray of int
        Series number of each row (index into ``ids``).
    ids : ndarray of str
        Series ids, in order of first appearance.
    y : ndarray of float
        Values (NaN for gaps).
    ordinals : ndarray of int
        Period ordinal of each row at its series' frequency.
    freq_of, kind_of : ndarray of str
        Frequency and kind of each series.
    """

    codes: np.ndarray
    ids: np.ndarray
    y: np.ndarray
    ordinals: np.ndarray
    freq_of: np.ndarray
    kind_of: np.ndarray

    def frame(self) -> pd.DataFrame:
        """Long frame ``unique_id, ds, y`` sorted by id then period.

        ``ds`` has a ``period`` dtype when every series has one frequency, else it holds
        period objects.
        """
        by_id = np.argsort(self.ids.astype(str), kind="stable")
        rank = np.empty(len(self.ids), dtype=np.int64)
        rank[by_id] = np.arange(len(self.ids))
        order = np.lexsort((self.ordinals, rank[self.codes]))
        n = len(order)
        frame = pd.DataFrame({"unique_id": self.ids[self.codes][order], "ds": np.zeros(n), "y": self.y[order]})
        row_freq = self.freq_of[self.codes][order]
        ords = self.ordinals[order]
        frequencies = set(self.freq_of.tolist())
        if len(frequencies) == 1:
            frame["ds"] = pd.PeriodIndex.from_ordinals(ords, freq=FREQUENCIES[frequencies.pop()])
            return frame
        ds_objects = np.empty(n, dtype=object)
        for f in frequencies:
            rows = np.flatnonzero(row_freq == f)
            ds_objects[rows] = list(pd.PeriodIndex.from_ordinals(ords[rows], freq=FREQUENCIES[f]))
        frame["ds"] = ds_objects
        return frame


# -- helpers -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as stripped text ('' for None/NaN); whole floats without '.0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(value).strip()


def _error(
    cls: type[InvalidSeriesError],
    locator: Locator,
    rows: np.ndarray,
    field: str,
    what: str,
    *,
    value: Any = None,
    series_id: Any = None,
    end: str = "",
) -> InvalidSeriesError:
    """``cls`` at the first of ``rows`` (a mask or indices), counting the others."""
    idx = np.flatnonzero(rows) if rows.dtype == bool else rows
    i = int(idx[0])
    more = f" ({len(idx) - 1} more rows with this problem)" if len(idx) > 1 else ""
    where = locator.where(i, field)
    return cls(
        f"{where}: {what}{end}{more}",
        location=where,
        value=None if value is None else str(value),
        series_id=None if series_id is None else str(series_id),
        row=i,
    )


def _factorize_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct stripped texts of ``values``; each distinct cell is stripped once."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    stripped = np.array([_text(u) for u in uniques], dtype=object)
    # Stripping can merge two spellings (" a" and "a"): factorize again.
    codes2, uniques2 = pd.factorize(stripped, use_na_sentinel=False)
    return codes2[codes], np.asarray(uniques2, dtype=object)


def _first_per_series(codes: np.ndarray, values: np.ndarray, n_series: int) -> np.ndarray:
    """The first non-empty value of each series (None when it has none)."""
    first = np.full(n_series, None, dtype=object)
    filled = np.flatnonzero(np.fromiter((bool(v) for v in values), dtype=bool, count=len(values)))
    # Reverse order so the earliest row of each series is written last and wins.
    for i in filled[::-1].tolist():
        first[codes[i]] = values[i]
    return first


# -- single rules --------------------------------------------------------------------------


def check_series_id(series_id: object) -> str:
    """Return ``series_id`` if it is a valid id.

    Raises
    ------
    InvalidSeriesIdError
        If the id is not 1-100 characters of ``A-Z a-z 0-9 _ . -``.
    """
    if not isinstance(series_id, str) or SERIES_ID_PATTERN.fullmatch(series_id) is None:
        raise InvalidSeriesIdError(f"invalid series id {series_id!r}: {_ID_RULE}.", value=str(series_id))
    return series_id


def check_frequency(frequency: object, *, series_id: str | None = None) -> str:
    """Return ``frequency`` if it is ``annual``, ``quarterly`` or ``monthly``.

    Raises
    ------
    UnknownFrequencyError
        Otherwise.
    """
    if not isinstance(frequency, str) or frequency not in FREQUENCIES:
        of = f" for series {series_id!r}" if series_id is not None else ""
        raise UnknownFrequencyError(
            f"unknown frequency {frequency!r}{of}; expected one of {', '.join(FREQUENCIES)}.",
            value=str(frequency),
            series_id=series_id,
        )
    return frequency


def check_kind_name(kind: object, *, series_id: str | None = None) -> str:
    """Return ``kind`` if it is ``level`` or ``share``.

    Raises
    ------
    UnknownKindError
        Otherwise.
    """
    if not isinstance(kind, str) or kind not in KINDS:
        of = f" for series {series_id!r}" if series_id is not None else ""
        raise UnknownKindError(
            f"unknown kind {kind!r}{of}; expected 'level' or 'share'.", value=str(kind), series_id=series_id
        )
    return kind


@dataclass(frozen=True)
class NumberFormat:
    """How numbers are written as text: the decimal mark and the accepted thousands separators.

    The default (``.`` decimals, no separators) reads what Python's ``float`` reads. With
    ``thousands``, a separator must group the digits by three (``3,695,000,000``, not
    ``3,69``), so a decimal comma is never taken for a separator by accident.

    Parameters
    ----------
    decimal : {".", ","}
        The decimal mark.
    thousands : str
        Characters accepted as thousands separators (each number uses one of them), e.g.
        ``","`` with ``.`` decimals, ``". \u00a0"`` with ``,`` decimals. Must not contain
        ``decimal``.
    """

    decimal: str = "."
    thousands: str = ""

    @property
    def is_plain(self) -> bool:
        """Whether this is the default format (``float`` reads every number)."""
        return self.decimal == "." and not self.thousands

    def describe(self) -> str:
        """The format in words, for error messages."""
        seps = " or ".join(repr(t) for t in self.thousands) if self.thousands else "none"
        return f"decimal mark {self.decimal!r}, thousands separators {seps}"

    def pattern(self) -> re.Pattern[str]:
        """The regular expression of one number in this format."""
        if self.decimal not in (".", ",") or self.decimal in self.thousands:
            raise InvalidSeriesError(
                f"invalid number format: decimal mark {self.decimal!r}, thousands {self.thousands!r}; "
                "the decimal mark is '.' or ',' and is not a thousands separator."
            )
        d = re.escape(self.decimal)
        groups = "".join(rf"|\d{{1,3}}(?:{re.escape(t)}\d{{3}})+" for t in self.thousands)
        return re.compile(rf"[+-]?(?:(?:\d+{groups})(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?")

    def read(self, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Floats of stripped, non-empty ``texts`` and a mask of those not in this format."""
        pattern = self.pattern()
        values = np.full(len(texts), np.nan)
        junk = np.zeros(len(texts), dtype=bool)
        drop = str.maketrans("", "", self.thousands)
        for i, text in enumerate(texts.tolist()):
            if pattern.fullmatch(text) is None:
                if text.lower().lstrip("+-") in _INFINITE_TEXTS:
                    values[i] = float(text)  # reported as a non-finite value, not as junk
                else:
                    junk[i] = True
                continue
            # Python's float is correctly rounded: the value kept is the number written.
            values[i] = float(text.translate(drop).replace(self.decimal, "."))
        return values, junk


def parse_values(
    cells: Any, uid: np.ndarray, locator: Locator, *, number_format: NumberFormat | None = None
) -> np.ndarray:
    """Cells (numbers or text) → floats, NaN for gaps (empty, ``NA``, ``null``...).

    ``number_format`` says how text numbers are written (default: ``.`` decimals and no
    thousands separators); cells that are already numbers are taken as they are.

    Python's ``float`` is correctly rounded, so the value kept is exactly the number
    written; ``pd.to_numeric`` on strings is not (it misrounds about one value in seven
    at 17 significant digits).

    Raises
    ------
    NonNumericValueError, NonFiniteValueError
    """
    cells = np.asarray(cells, dtype=object) if not isinstance(cells, np.ndarray) else cells
    fmt = number_format or NumberFormat()
    values, junk = _to_floats(cells) if fmt.is_plain else _to_floats_formatted(cells, fmt)
    if junk.any():
        i = int(np.flatnonzero(junk)[0])
        expected = (
            "use '.' for decimals, no thousands separators"
            if fmt.is_plain
            else f"{fmt.describe()}, digits grouped by three"
        )
        raise _error(
            NonNumericValueError,
            locator,
            junk,
            "y",
            f"non-numeric value {_text(cells[i])!r} for series {uid[i]!r}; expected a number "
            f"({expected}), or nothing (an empty cell, null) for a gap",
            value=_text(cells[i]),
            series_id=uid[i],
        )
    infinite = np.isinf(values)
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise _error(
            NonFiniteValueError,
            locator,
            infinite,
            "y",
            f"value {_text(cells[i])!r} for series {uid[i]!r} is not a finite number",
            value=_text(cells[i]),
            series_id=uid[i],
        )
    return values


def _to_floats(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(cells)
    junk = np.zeros(n, dtype=bool)
    try:
        return cells.astype(float), junk
    except (TypeError, ValueError):
        pass
    values = np.full(n, np.nan)
    filled = np.flatnonzero(np.fromiter((c is not None and c != "" for c in cells), dtype=bool, count=n))
    try:
        values[filled] = cells[filled].astype(float)
        return values, junk
    except (TypeError, ValueError):
        pass
    # Slow path, only for input with gap spellings ("NA") or junk: one cell at a time.
    for i in filled.tolist():
        text = _text(cells[i])
        if text.lower() in MISSING_TEXTS:
            continue
        try:
            values[i] = float(text)
        except ValueError:
            junk[i] = True
    return values, junk


def _to_floats_formatted(cells: np.ndarray, fmt: NumberFormat) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_to_floats` for text in ``fmt``; numbers already typed are kept as they are."""
    if fmt.decimal == ".":
        # Whatever float() reads is also a number in this format (a thousands separator
        # never is): the fast path, then the format's pattern for the cells it refused.
        values, junk = _to_floats(cells)
        if junk.any():
            rows = np.flatnonzero(junk)
            texts = np.array([_text(c) for c in cells[rows]], dtype=object)
            values[rows], junk[rows] = fmt.read(texts)
        return values, junk
    n = len(cells)
    values = np.full(n, np.nan)
    junk = np.zeros(n, dtype=bool)
    is_text = np.fromiter((isinstance(c, str) for c in cells), dtype=bool, count=n)
    typed = np.flatnonzero(~is_text)
    if len(typed):
        values[typed], junk[typed] = _to_floats(cells[typed])
    texts = np.array([c.strip() for c in cells[is_text]], dtype=object)
    filled = np.fromiter((t.lower() not in MISSING_TEXTS for t in texts), dtype=bool, count=len(texts))
    rows = np.flatnonzero(is_text)[filled]
    values[rows], junk[rows] = fmt.read(texts[filled])
    return values, junk


def check_values(
    y: np.ndarray,
    row_kind: np.ndarray | str,
    uid: np.ndarray,
    locator: Locator,
    *,
    allow_negative: bool = True,
    shown: Sequence[str] | None = None,
) -> None:
    """The value ranges of each kind: shares in [0, 1]; levels >= 0 unless ``allow_negative``.

    Parameters
    ----------
    y : ndarray of float
        Values (NaN is skipped).
    row_kind : ndarray of str, or str
        Kind of each row, or of all rows.
    uid : ndarray of str
        Series id of each row (for messages).
    locator : Locator
        Names the rows.
    allow_negative : bool
        Accept negative ``level`` values (balances, growth rates...).
    shown : sequence of str, optional
        The values as written (default: formatted from ``y``).

    Raises
    ------
    ShareOutOfRangeError, NegativeValueError
    """
    with np.errstate(invalid="ignore"):
        outside = (row_kind == "share") & ((y < 0) | (y > 1))
    if np.any(outside):
        i = int(np.flatnonzero(outside)[0])
        text = shown[i] if shown is not None else _text(float(y[i]))
        hint = " (percentages? divide by 100)" if 1 < y[i] <= 100 else ""
        raise _error(
            ShareOutOfRangeError,
            locator,
            np.asarray(outside, dtype=bool),
            "y",
            f"share {text} for series {uid[i]!r} is outside [0, 1]{hint}",
            value=text,
            series_id=uid[i],
        )
    if allow_negative:
        return
    with np.errstate(invalid="ignore"):
        negative = (row_kind == "level") & (y < 0)
    if np.any(negative):
        i = int(np.flatnonzero(negative)[0])
        text = shown[i] if shown is not None else _text(float(y[i]))
        raise _error(
            NegativeValueError,
            locator,
            np.asarray(negative, dtype=bool),
            "y",
            f"negative trade value {text} for series {uid[i]!r}; trade values are >= 0 "
            "(load balances with allow_negative=True)",
            value=text,
            series_id=uid[i],
        )


def check_complete(y: pd.Series, *, name: str = "data") -> None:
    """Refuse missing (null/NaN) values of a parsed series.

    Raises
    ------
    MissingValuesError
        Naming how many there are and the first one.
    """
    mask = np.isnan(y.to_numpy(dtype=float))
    if mask.any():
        first = y.index[int(np.flatnonzero(mask)[0])]
        raise MissingValuesError(
            f"{name} has {int(mask.sum())} missing value(s) (null), the first at {first}; "
            "the models need complete series: fill them or send the complete end of the series.",
            location=name,
            value=str(first),
        )


# -- the long core -----------------------------------------------------------------------


def _series_codes(uid: np.ndarray, check_ids: bool, locator: Locator) -> tuple[np.ndarray, np.ndarray]:
    codes, ids = _factorize_text(uid)
    if not check_ids:
        return codes, ids
    bad_ids = [j for j, s in enumerate(ids) if SERIES_ID_PATTERN.fullmatch(str(s)) is None]
    if bad_ids:
        rows = np.flatnonzero(np.isin(codes, bad_ids))
        i = int(rows[0])
        sid = str(ids[codes[i]])
        what = "empty series id" if sid == "" else f"invalid series id {sid!r}: {_ID_RULE}"
        where = locator.where(i, "unique_id")
        raise InvalidSeriesIdError(f"{where}: {what}.", location=where, value=sid, row=i)
    return codes, ids


@dataclass
class _Periods:
    codes: np.ndarray  # row -> distinct period cell
    texts: np.ndarray  # distinct cells as text
    parsed: ParsedPeriods  # of the distinct cells

    def form(self) -> np.ndarray:
        return np.asarray(self.parsed.form[self.codes], dtype=object)

    def text(self, row: int) -> str:
        return str(self.texts[self.codes[row]])


def _read_periods(ds: Any, locator: Locator) -> _Periods:
    """Classify every period cell (each distinct text is parsed once)."""
    if isinstance(ds, pd.PeriodIndex | pd.DatetimeIndex):
        try:
            parsed = from_index(ds)
        except ValueError as exc:
            raise UnknownFrequencyError(f"{exc}.", value=str(ds.freqstr)) from None
        return _Periods(np.arange(len(ds)), np.asarray(ds.astype(str), dtype=object), parsed)
    cells = ds if isinstance(ds, np.ndarray) else np.asarray(list(ds), dtype=object)
    codes, texts = _factorize_text(cells)
    periods = _Periods(codes, texts, parse_period_strings(pd.Series(texts, dtype=object)))
    unknown = periods.form() == UNKNOWN
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        value = periods.text(i)
        if value == "":
            raise _error(EmptyPeriodError, locator, unknown, "ds", "empty period", value="")
        what = f"cannot read the period {value!r}; {_PERIOD_RULE}"
        if _DECIMAL_YEAR.fullmatch(value):
            what = (
                f"cannot read the period {value!r}: a year with a decimal part is ambiguous (a decimal year, or "
                "YYYY.MM whose trailing zero was lost, 2023.10 read as a number); write two-digit months "
                "(2023.01, 2023.10) as text, or 2023-01"
            )
        raise _error(UnreadablePeriodError, locator, unknown, "ds", what, value=value)
    return periods


def _check_one_form_per_series(
    periods: _Periods, codes: np.ndarray, ids: np.ndarray, locator: Locator
) -> dict[int, str]:
    """Frequency of each series as written in its labels (dates excluded)."""
    form = periods.form()
    non_date = form != DATE
    series_forms = pd.DataFrame({"s": codes[non_date], "f": form[non_date]}).drop_duplicates()
    counts = series_forms["s"].value_counts()
    if (counts > 1).any():
        s = int(counts[counts > 1].index[0])
        rows = np.flatnonzero((codes == s) & non_date)
        i0 = int(rows[0])
        j = int(rows[np.flatnonzero(form[rows] != form[i0])[0]])
        where = locator.where(j, "ds")
        raise MixedFrequencyError(
            f"{where}: mixed frequencies in series {ids[s]!r}: {periods.text(j)!r} is {form[j]} but "
            f"{locator.at(i0)} has {form[i0]} period {periods.text(i0)!r}. One series has one frequency.",
            location=where,
            value=periods.text(j),
            series_id=str(ids[s]),
            row=j,
        )
    return dict(zip(series_forms["s"].tolist(), series_forms["f"].tolist(), strict=True))


def _frequencies(
    periods: _Periods, codes: np.ndarray, ids: np.ndarray, wanted_of: np.ndarray, locator: Locator
) -> np.ndarray:
    """Frequency of each series: declared, else from the labels, else from the dates."""
    seen_of = _check_one_form_per_series(periods, codes, ids, locator)
    form = periods.form()
    freq_of = np.empty(len(ids), dtype=object)
    for s in range(len(ids)):
        wanted, seen = wanted_of[s], seen_of.get(s)
        if wanted is not None and wanted not in FREQUENCIES:
            i = int(np.flatnonzero(codes == s)[0])
            raise UnknownFrequencyError(
                f"{locator.at(i)}: unknown frequency {wanted!r} for series {ids[s]!r}; "
                f"expected one of {', '.join(FREQUENCIES)}.",
                location=locator.at(i),
                value=str(wanted),
                series_id=str(ids[s]),
                row=i,
            )
        if wanted is not None and seen is not None and wanted != seen:
            rows = (codes == s) & (form == seen)
            text = periods.text(int(np.flatnonzero(rows)[0]))
            what = f"period {text!r} is {seen} but series {ids[s]!r} was declared {wanted}: mixed frequencies"
            raise _error(MixedFrequencyError, locator, rows, "ds", what, value=text, series_id=ids[s])
        freq_of[s] = wanted or seen
    undecided = [s for s in range(len(ids)) if freq_of[s] is None]
    if undecided:
        _infer_from_dates(periods, codes, ids, freq_of, undecided, locator)
    return freq_of


def _infer_from_dates(
    periods: _Periods, codes: np.ndarray, ids: np.ndarray, freq_of: np.ndarray, undecided: list[int], locator: Locator
) -> None:
    """Fill ``freq_of`` of series written with dates only, from their calendar months."""
    # Group the rows once (a scan per series would be quadratic), and infer each distinct
    # set of dates once: in a typical file every series has the same dates.
    dates = periods.parsed.dates[periods.codes]
    by_series = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[by_series], np.arange(len(ids) + 1))
    guesses: dict[bytes, str | None] = {}
    for s in undecided:
        rows = by_series[starts[s] : starts[s + 1]]
        key = np.sort(periods.codes[rows]).tobytes()
        if key not in guesses:
            guesses[key] = infer_date_frequency(dates[rows])
        guess = guesses[key]
        if guess is None:
            uniq = pd.DatetimeIndex(np.unique(dates[rows].to_numpy()))
            if len(uniq) < 2:
                spacing = "a single date"
            else:
                month = uniq.to_period("M")
                same = np.flatnonzero(month[1:] == month[:-1])
                j = int(same[0]) if len(same) else 0
                spacing = f"{uniq[j]:%Y-%m-%d} and {uniq[j + 1]:%Y-%m-%d} fall in one month"
            where = locator.where(int(rows[0]), "ds")
            raise UnknownFrequencyError(
                f"{where}: cannot tell the frequency of series {ids[s]!r} from its dates ({spacing}); only "
                "annual, quarterly and monthly series are supported: pass frequency= or write periods such "
                "as 2023-01.",
                location=where,
                series_id=str(ids[s]),
                row=int(rows[0]),
            )
        freq_of[s] = guess


def _ordinals(
    periods: _Periods, codes: np.ndarray, ids: np.ndarray, freq_of: np.ndarray, locator: Locator
) -> np.ndarray:
    """Period ordinal of each row at its series' frequency; refuses a period given twice."""
    row_freq = freq_of[codes]
    ordinals = np.zeros(len(codes), dtype=np.int64)
    for f in set(freq_of.tolist()):
        rows = np.flatnonzero(row_freq == f)
        ordinals[rows] = to_periods(periods.parsed, periods.codes[rows], f).asi8
    keys = pd.DataFrame({"s": codes, "o": ordinals})
    later = keys.duplicated(keep="first").to_numpy()
    if later.any():
        j = int(np.flatnonzero(later)[0])
        same = np.flatnonzero((codes == codes[j]) & (ordinals == ordinals[j]))
        period = pd.PeriodIndex.from_ordinals([int(ordinals[j])], freq=FREQUENCIES[freq_of[codes[j]]])[0]
        what = (
            f"duplicate period {period} ({periods.text(j)!r}) for series {ids[codes[j]]!r}; "
            f"first given at {locator.at(int(same[0]))}"
        )
        raise _error(DuplicatePeriodError, locator, later, "ds", what, value=periods.text(j), series_id=ids[codes[j]])
    return ordinals


def _per_series(given: str | None, rows: np.ndarray | None, codes: np.ndarray, n_series: int, check: Any) -> np.ndarray:
    """One setting per series: the argument, else the first non-empty per-row value, else None."""
    if given is not None:
        check(given)
        return np.full(n_series, given, dtype=object)
    if rows is None:
        return np.full(n_series, None, dtype=object)
    cleaned = np.array([_text(v).lower() for v in rows], dtype=object)
    return _first_per_series(codes, cleaned, n_series)


def _kinds(kind_of: np.ndarray, codes: np.ndarray, ids: np.ndarray, locator: Locator) -> np.ndarray:
    kind_of = np.array([k or "level" for k in kind_of], dtype=object)
    bad = [s for s in range(len(ids)) if kind_of[s] not in KINDS]
    if bad:
        i = int(np.flatnonzero(codes == bad[0])[0])
        raise UnknownKindError(
            f"{locator.at(i)}: unknown kind {kind_of[bad[0]]!r} for series {ids[bad[0]]!r}; "
            "expected 'level' or 'share'.",
            location=locator.at(i),
            value=str(kind_of[bad[0]]),
            series_id=str(ids[bad[0]]),
            row=i,
        )
    return kind_of


def parse_long(
    uid: Any,
    ds: Any,
    y: Any,
    *,
    frequency: str | None = None,
    kind: str | None = None,
    frequency_rows: np.ndarray | None = None,
    kind_rows: np.ndarray | None = None,
    allow_negative: bool = True,
    check_ids: bool = True,
    locator: Locator | None = None,
    number_format: NumberFormat | None = None,
) -> LongObservations:
    """Validate long observations of any number of series, vectorised.

    Parameters
    ----------
    uid, ds, y : array-like
        Series id, period (label, date, ``pd.Period``; or a Period/DatetimeIndex) and
        value (number or text; empty, ``NA``, ``null`` are gaps) of each observation.
    frequency : {"annual", "quarterly", "monthly"}, optional
        Frequency of every series. Default: ``frequency_rows``, else the period labels
        (or, for dates only, their calendar months).
    kind : {"level", "share"}, optional
        Kind of every series. Default: ``kind_rows``, else ``level``.
    frequency_rows, kind_rows : ndarray, optional
        Declared frequency / kind per row (the first non-empty value of a series counts).
    allow_negative : bool
        Accept negative ``level`` values.
    check_ids : bool
        Check that ids are URL-safe (off for one series named by its caller).
    locator : Locator, optional
        Names places in messages (default :class:`ItemLocator`).
    number_format : NumberFormat, optional
        How text values write numbers (default: ``.`` decimals, no thousands separators).

    Returns
    -------
    LongObservations

    Raises
    ------
    InvalidSeriesError
        One subclass per rule (see the module docstring), naming the place, the value
        and the fix.
    """
    locator = locator or ItemLocator()
    uid_cells = np.asarray(uid, dtype=object)
    codes, ids = _series_codes(uid_cells, check_ids, locator)
    values = parse_values(y, ids[codes], locator, number_format=number_format)
    periods = _read_periods(ds, locator)
    wanted_of = _per_series(frequency, frequency_rows, codes, len(ids), check_frequency)
    freq_of = _frequencies(periods, codes, ids, wanted_of, locator)
    ordinals = _ordinals(periods, codes, ids, freq_of, locator)
    kind_of = _kinds(_per_series(kind, kind_rows, codes, len(ids), check_kind_name), codes, ids, locator)
    y_cells = y if isinstance(y, np.ndarray) and y.dtype == object else None
    shown = None if y_cells is None else _Shown(y_cells)
    check_values(values, kind_of[codes], ids[codes], locator, allow_negative=allow_negative, shown=shown)
    return LongObservations(codes=codes, ids=ids, y=values, ordinals=ordinals, freq_of=freq_of, kind_of=kind_of)


class _Shown(Sequence[str]):
    """Values as written, formatted only when a message needs one."""

    def __init__(self, cells: np.ndarray) -> None:
        self._cells = cells

    def __len__(self) -> int:
        return len(self._cells)

    def __getitem__(self, i: Any) -> Any:
        return _text(self._cells[i])


# -- one series --------------------------------------------------------------------------


def parse_series(
    ds: Any,
    y: Any,
    *,
    frequency: str | None = None,
    kind: str = "level",
    name: str = "y",
    allow_gaps: bool = False,
    allow_negative: bool = True,
    locator: Locator | None = None,
) -> pd.Series:
    """Observations of one series → a float series on a regular ``PeriodIndex``.

    Parameters
    ----------
    ds : array-like or pd.PeriodIndex or pd.DatetimeIndex
        Periods: labels (``2023``, ``2023Q1``, ``2023-Q1``, ``2023-01``), dates (mapped to
        the period that contains them) or ``pd.Period`` objects.
    y : array-like
        Values: numbers or their text; ``None``, NaN, empty text or ``NA`` are missing.
    frequency : {"annual", "quarterly", "monthly"}, optional
        Default: from the labels (or, for dates only, their calendar months).
    kind : {"level", "share"}
        ``share`` values must lie in [0, 1].
    name : str
        Name of the result and of the series in messages.
    allow_gaps : bool
        Missing periods become NaN instead of raising :class:`MissingPeriodsError`.
    allow_negative : bool
        Accept negative ``level`` values (default True; trade-value files refuse them).
    locator : Locator, optional
        Names places in messages (default ``ItemLocator(name)``: ``data[3].ds``).

    Returns
    -------
    pd.Series
        Float values sorted on a complete ``PeriodIndex`` named ``ds`` with ``freq`` set;
        NaN for missing values (and for gaps with ``allow_gaps``).

    Raises
    ------
    InvalidSeriesError
        One subclass per rule (see the module docstring).
    """
    locator = locator or ItemLocator(name)
    n = len(ds)
    if n == 0:
        raise EmptySeriesError(f"{name} has no observations; send at least one period and value.", location=name)
    if len(y) != n:
        raise InvalidSeriesError(f"{name}: {n} periods but {len(y)} values; give one value per period.")
    ds_in = ds if isinstance(ds, pd.PeriodIndex | pd.DatetimeIndex) else np.asarray(list(ds), dtype=object)
    y_in = y.to_numpy() if isinstance(y, pd.Series | pd.Index) else np.asarray(list(y), dtype=object)
    parsed = parse_long(
        np.full(n, name, dtype=object),
        ds_in,
        y_in,
        frequency=frequency,
        kind=kind,
        allow_negative=allow_negative,
        check_ids=False,
        locator=locator,
    )
    freq = FREQUENCIES[str(parsed.freq_of[0])]
    order = np.argsort(parsed.ordinals, kind="stable")
    ordinals = parsed.ordinals[order]
    first, last = int(ordinals[0]), int(ordinals[-1])
    values = np.full(last - first + 1, np.nan)
    values[ordinals - first] = parsed.y[order]
    index = pd.PeriodIndex.from_ordinals(np.arange(first, last + 1), freq=freq).rename("ds")
    if not allow_gaps and len(ordinals) != len(index):
        missing = index.difference(pd.PeriodIndex.from_ordinals(ordinals, freq=freq))
        raise MissingPeriodsError(
            f"{name} has {len(missing)} gap(s) in its {parsed.freq_of[0]} periods, the first at {missing[0]}; "
            "send every period between the first and the last (use null only if the model accepts it).",
            location=name,
            value=", ".join(str(p) for p in missing[:10]),
        )
    return pd.Series(values, index=index, name=name)
