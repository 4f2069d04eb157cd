"""The single models that combinations can name as members.

:mod:`forecasting.registry` exposes these plus the combinations built on them
(:class:`~forecasting.ensemble.Ensemble`, :class:`~forecasting.auto.Auto`). Combinations
resolve member names here, not in the registry, so the import graph stays a tree:
``registry -> auto -> ensemble -> models.catalog``.
"""

from __future__ import annotations

from sklearn.base import clone

from forecasting.base import BaseForecaster
from forecasting.exceptions import NotFoundError
from forecasting.models.arima import ARIMA
from forecasting.models.deseasonalized import Deseasonalized, SeasonallyAdjustedARIMA
from forecasting.models.ets import ETS
from forecasting.models.naive import Drift, Mean, Naive, Naive2, SeasonalNaive
from forecasting.models.theta import CES, OptimizedTheta, Theta

__all__ = ["MEMBER_MODELS", "build_member", "member_label"]

MEMBER_MODELS: dict[str, type[BaseForecaster]] = {
    "naive": Naive,
    "seasonal_naive": SeasonalNaive,
    "drift": Drift,
    "mean": Mean,
    "naive2": Naive2,
    "ets": ETS,
    "arima": ARIMA,
    "theta": Theta,
    "optimized_theta": OptimizedTheta,
    "ces": CES,
    "deseasonalized": Deseasonalized,
    "sa_arima": SeasonallyAdjustedARIMA,
}


def build_member(entry: str | BaseForecaster) -> tuple[str, BaseForecaster]:
    """A member given by name or instance, as ``(label, fresh unfitted model)``.

    Raises
    ------
    NotFoundError
        If ``entry`` names no single model.
    """
    if isinstance(entry, BaseForecaster):
        return member_label(entry), clone(entry)
    try:
        cls = MEMBER_MODELS[entry]
    except (KeyError, TypeError):
        raise NotFoundError(
            f"unknown member model {entry!r}; a combination's members are model instances or one of: "
            f"{', '.join(MEMBER_MODELS)}."
        ) from None
    return entry, cls()


def member_label(model: BaseForecaster) -> str:
    """The registry name of ``model``'s class (wrappers as ``outer(inner)``)."""
    names = {cls: name for name, cls in MEMBER_MODELS.items()}
    inner = getattr(model, "model", None)
    if isinstance(inner, BaseForecaster):
        return f"{names.get(type(model), type(model).__name__)}({member_label(inner)})"
    return names.get(type(model), type(model).__name__)
