"""The service's limits (from settings) and the checks that apply them.

Every refusal is a library exception carrying ``details`` (field, limit, value), which
the HTTP layer puts in its error body. The messages name the environment variable that
sets the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from forecasting import series as series_rules
from forecasting.exceptions import InsufficientDataError, InvalidParameterError, MissingValuesError
from forecasting.registry import REGISTRY

__all__ = [
    "MISSING_HINT",
    "Limits",
    "check_backtest",
    "check_complete",
    "check_forecast",
    "check_model_name",
    "check_series_length",
    "with_details",
]

E = TypeVar("E", bound=Exception)


@dataclass(frozen=True)
class Limits:
    """What one service instance accepts (``TRADECAST_*`` settings of the same names)."""

    default_model: str = "auto"
    max_horizon: int = 120
    max_levels: int = 5
    max_series_length: int = 5_000
    min_series_length: int = 3
    max_backtest_windows: int = 20
    max_backtest_models: int = 6


def with_details(exc: E, details: dict[str, Any]) -> E:
    """Attach ``details`` (shown in the error body) to ``exc`` and return it."""
    exc.details = details  # type: ignore[attr-defined]
    return exc


def check_model_name(name: str, field: str = "model") -> str:
    """A registered model name, else :class:`InvalidParameterError` (the request is wrong, not missing)."""
    if name not in REGISTRY:
        raise with_details(
            InvalidParameterError(f"{field}: unknown model {name!r}; choose one of: {', '.join(REGISTRY)}."),
            {"field": field, "value": name, "choices": list(REGISTRY)},
        )
    return name


def check_forecast(horizon: int, levels: Sequence[int], limits: Limits) -> tuple[int, ...]:
    """Check horizon and levels against the limits; return the sorted unique levels."""
    if horizon > limits.max_horizon:
        raise with_details(
            InvalidParameterError(
                f"horizon={horizon} is above this service's limit of {limits.max_horizon} (TRADECAST_MAX_HORIZON)."
            ),
            {"field": "horizon", "limit": limits.max_horizon, "value": horizon},
        )
    unique = tuple(sorted(set(levels)))
    if len(unique) > limits.max_levels:
        raise with_details(
            InvalidParameterError(
                f"{len(unique)} levels requested; at most {limits.max_levels} are allowed (TRADECAST_MAX_LEVELS)."
            ),
            {"field": "levels", "limit": limits.max_levels, "value": len(unique)},
        )
    return unique


def check_backtest(models: Sequence[str] | None, windows: int, limits: Limits) -> tuple[str, ...]:
    """Check the models and windows of a backtest; return the unique model names in order."""
    names = tuple(dict.fromkeys(models or [limits.default_model]))
    for i, name in enumerate(names):
        check_model_name(name, field=f"models[{i}]")
    if len(names) > limits.max_backtest_models:
        raise with_details(
            InvalidParameterError(f"{len(names)} models requested; at most {limits.max_backtest_models} per backtest."),
            {"field": "models", "limit": limits.max_backtest_models},
        )
    if windows > limits.max_backtest_windows:
        raise with_details(
            InvalidParameterError(f"windows={windows} is above this service's limit of {limits.max_backtest_windows}."),
            {"field": "windows", "limit": limits.max_backtest_windows, "value": windows},
        )
    return names


def check_series_length(n: int, limits: Limits) -> None:
    """Refuse series longer or shorter than the limits."""
    if n > limits.max_series_length:
        raise with_details(
            InvalidParameterError(
                f"the series has {n} observations; this service accepts at most "
                f"{limits.max_series_length} (TRADECAST_MAX_SERIES_LENGTH)."
            ),
            {"field": "data", "limit": limits.max_series_length, "value": n},
        )
    if n < limits.min_series_length:
        raise with_details(
            InsufficientDataError(
                f"the series has {n} observation(s); at least {limits.min_series_length} are needed."
            ),
            {"field": "data", "limit": limits.min_series_length, "value": n},
        )


#: The request's ``missing`` values that take a series with gaps (the library's policies).
_MISSING_OPTIONS = ("model", "latest_stretch")

#: What a REST or CLI caller can do about gaps, in the request's own terms.
MISSING_HINT = (
    'Or send "missing": "model" to fit through the gaps (models auto, regression_arima, structural; '
    'nothing is filled in), or "missing": "latest_stretch" to forecast from the latest complete stretch.'
)


def check_complete(y: pd.Series, *, field: str = "data") -> None:
    """Raise :class:`MissingValuesError` (the series parser's rule) naming the first missing value of ``y``."""
    try:
        series_rules.check_complete(y, name=field)
    except MissingValuesError as exc:
        n_missing = int(np.isnan(y.to_numpy(dtype=float)).sum())
        hinted = MissingValuesError(f"{exc} {MISSING_HINT}", location=exc.location, value=exc.value)
        details = {
            "field": field,
            "first_missing": exc.value,
            "n_missing": n_missing,
            "missing": list(_MISSING_OPTIONS),
        }
        raise with_details(hinted, details) from None
