"""Input checks shared by every model and entry point."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from forecasting.exceptions import (
    DuplicatePeriodError,
    InsufficientDataError,
    InvalidParameterError,
    InvalidSeriesError,
    MissingPeriodsError,
    MissingValuesError,
    NegativeValueError,
    NonFiniteValueError,
    NonNumericValueError,
    NotFittedError,
    ShareOutOfRangeError,
)
from forecasting.series import KINDS

__all__ = [
    "KINDS",
    "check_horizon",
    "check_is_fitted",
    "check_kind",
    "check_levels",
    "check_min_obs",
    "check_nonnegative",
    "check_series",
    "check_values_for_kind",
    "infer_season_length",
]

#: Hard ceiling on the horizon; services apply tighter limits from their settings.
MAX_HORIZON = 10_000


def check_series(
    y: Any,
    *,
    min_obs: int = 1,
    allow_missing: bool = False,
    name: str = "y",
) -> pd.Series:
    """Validate a model input series and return it as a float ``pd.Series``.

    Parameters
    ----------
    y : pd.Series
        Series with a regular ``PeriodIndex`` or ``DatetimeIndex`` whose ``freq`` is set.
    min_obs : int
        Minimum number of observations required.
    allow_missing : bool
        Whether NaN values are accepted.
    name : str
        Parameter name used in messages.

    Returns
    -------
    pd.Series
        A float copy of ``y``.

    Raises
    ------
    InvalidSeriesError
        If ``y`` is not a series, its index is not a regular period/datetime index, it has
        duplicates or gaps, non-numeric or infinite values, or NaN where not allowed.
    InsufficientDataError
        If ``y`` has fewer than ``min_obs`` observations.
    """
    if not isinstance(y, pd.Series):
        raise InvalidSeriesError(
            f"{name} must be a pandas Series with a PeriodIndex or DatetimeIndex; got {type(y).__name__}."
        )
    index = y.index
    if not isinstance(index, pd.PeriodIndex | pd.DatetimeIndex):
        raise InvalidSeriesError(
            f"{name} must be indexed by a PeriodIndex or DatetimeIndex; got {type(index).__name__}. "
            "Convert dates with pd.PeriodIndex(dates, freq='M') (or 'Q', 'Y')."
        )
    if index.has_duplicates:
        dups = index[index.duplicated()].unique()[:3]
        raise DuplicatePeriodError(
            f"{name} has duplicate periods: {', '.join(map(str, dups))}. Keep one value per period."
        )
    if not index.is_monotonic_increasing:
        raise InvalidSeriesError(f"{name} must be sorted by date; sort it with y.sort_index().")
    if index.freq is None:
        inferred = pd.infer_freq(index) if len(index) >= 3 else None
        if inferred is None:
            raise MissingPeriodsError(
                f"{name} has no regular frequency: its index has gaps or irregular spacing and no "
                "freq is set. Reindex it to a full period range (gaps as NaN) and set freq."
            )
        raise InvalidSeriesError(
            f"{name}'s index has no freq set (it looks like {inferred!r}); use y.asfreq({inferred!r}) or a PeriodIndex."
        )
    if isinstance(index, pd.DatetimeIndex):
        expected = pd.date_range(index[0], periods=len(index), freq=index.freq)
        if not expected.equals(index):
            raise InvalidSeriesError(f"{name}'s index is not regular at freq {index.freqstr}.")
    else:
        if len(index) and (index[-1] - index[0]).n != len(index) - 1:
            raise MissingPeriodsError(f"{name} has gaps in its PeriodIndex; reindex it with NaN for gaps.")
    try:
        values = pd.to_numeric(y, errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise NonNumericValueError(f"{name} must hold numbers; {exc}") from exc
    arr = values.to_numpy()
    if np.any(np.isinf(arr)):
        pos = int(np.flatnonzero(np.isinf(arr))[0])
        raise NonFiniteValueError(f"{name} has an infinite value at {index[pos]}.")
    n_missing = int(np.isnan(arr).sum())
    if n_missing and not allow_missing:
        pos = int(np.flatnonzero(np.isnan(arr))[0])
        raise MissingValuesError(
            f"{name} has {n_missing} missing value(s), the first at {index[pos]}; this model "
            "cannot take NaN. Fill or drop them, or shorten the series to its complete end."
        )
    check_min_obs(values, min_obs, name=name)
    values.name = y.name if y.name is not None else "y"
    return values


def check_min_obs(y: pd.Series, min_obs: int, *, name: str = "y") -> None:
    """Raise ``InsufficientDataError`` when ``y`` has fewer than ``min_obs`` non-missing values."""
    n_obs = int(y.notna().sum())
    if n_obs < min_obs:
        raise InsufficientDataError(f"{name} has {n_obs} observation(s); at least {min_obs} are needed.")


def check_horizon(horizon: Any, *, max_horizon: int = MAX_HORIZON) -> int:
    """Return ``horizon`` as an int in ``1..max_horizon`` or raise ``InvalidParameterError``."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise InvalidParameterError(f"horizon must be an integer >= 1; got {horizon!r}.")
    if horizon < 1 or horizon > max_horizon:
        raise InvalidParameterError(f"horizon must be between 1 and {max_horizon}; got {horizon}.")
    return int(horizon)


def check_levels(levels: Iterable[Any] | None) -> tuple[int, ...]:
    """Validate interval levels (integer percentages in 1..99); de-duplicate and sort."""
    if levels is None:
        return ()
    if isinstance(levels, int | float | str):
        raise InvalidParameterError(f"levels must be a list of integers such as [80, 95]; got {levels!r}.")
    out: set[int] = set()
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int | np.integer | float):
            raise InvalidParameterError(f"levels must be integers in 1..99; got {level!r}.")
        if float(level) != int(level) or not 1 <= int(level) <= 99:
            raise InvalidParameterError(f"levels must be integers in 1..99; got {level!r}.")
        out.add(int(level))
    return tuple(sorted(out))


def check_kind(kind: Any) -> str:
    """Validate a series kind: ``"level"`` or ``"share"``."""
    if kind not in KINDS:
        raise InvalidParameterError(f"kind must be one of {KINDS}; got {kind!r}.")
    return str(kind)


def check_values_for_kind(y: pd.Series, kind: str) -> None:
    """Check that the values fit ``kind``: shares must lie in [0, 1].

    The same rule as :func:`forecasting.series.check_values` (and the same error code,
    ``share_out_of_range``), for a series already indexed by periods.
    """
    arr = y.to_numpy(dtype=float)
    finite = arr[~np.isnan(arr)]
    if kind == "share" and finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
        bad = int(np.flatnonzero((arr < 0) | (arr > 1))[0])
        raise ShareOutOfRangeError(
            f"kind='share' needs values in [0, 1]; got {arr[bad]:g} at {y.index[bad]}. "
            "Give shares as fractions (0.4, not 40)."
        )


def check_nonnegative(y: pd.Series, kind: str, nonnegative: Any = None) -> bool:
    """Decide whether forecasts of ``y`` are kept non-negative (censored at zero).

    Parameters
    ----------
    y : pd.Series
        The validated series.
    kind : {"level", "share"}
        Shares are modelled on the logit scale and stay inside (0, 1) anyway, so the answer
        for them is always False.
    nonnegative : bool or None
        None decides from the data: True when ``y`` is a level series with at least one
        value and none below zero (trade values, turnover). True asks for it (and requires
        such data); False turns it off (balances, changes, anything that may go negative).

    Returns
    -------
    bool

    Raises
    ------
    InvalidParameterError
        If ``nonnegative`` is not None, True or False.
    NegativeValueError
        If ``nonnegative=True`` and ``y`` holds a negative value.
    """
    if nonnegative is not None and not isinstance(nonnegative, bool | np.bool_):
        raise InvalidParameterError(
            f"nonnegative must be None (decide from the data), True or False; got {nonnegative!r}."
        )
    if kind != "level" or (nonnegative is not None and not nonnegative):
        return False
    arr = y.to_numpy(dtype=float)
    negative = arr < 0
    if nonnegative is None:
        return bool(np.any(~np.isnan(arr)) and not np.any(negative))
    if np.any(negative):
        bad = int(np.flatnonzero(negative)[0])
        raise NegativeValueError(
            f"nonnegative=True but {y.name!r} has the negative value {arr[bad]:g} at {y.index[bad]}; "
            "use nonnegative=False for a series that can go negative."
        )
    return True


def check_is_fitted(model: Any) -> None:
    """Raise ``NotFittedError`` unless ``model`` has been fitted."""
    if not getattr(model, "is_fitted", False):
        raise NotFittedError(f"{type(model).__name__} is not fitted yet; call fit(y) before predict().")


_SEASON_BY_FREQ = {"Y": 1, "A": 1, "Q": 4, "M": 12, "W": 52, "D": 7, "B": 5, "H": 24}


def infer_season_length(index: pd.Index) -> int:
    """Season length implied by the index frequency: 12 monthly, 4 quarterly, 1 annual."""
    freq = getattr(index, "freqstr", None) or ""
    base = freq.lstrip("0123456789").upper()
    for prefix in ("ME", "MS", "QE", "QS", "YE", "YS", "BQ", "BY", "BA", "BM"):
        if base.startswith(prefix):
            base = prefix[0] if prefix[0] != "B" else prefix[1]
            break
    return _SEASON_BY_FREQ.get(base[:1], 1)
