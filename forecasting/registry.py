"""Explicit map from registry names (snake_case) to model classes.

Registration puts a model under the contract test and exposes it through the API.
"""

from __future__ import annotations

import inspect
from typing import Any

from forecasting.auto import Auto
from forecasting.base import BaseForecaster
from forecasting.ensemble import Ensemble
from forecasting.exceptions import InvalidParameterError, NotFoundError
from forecasting.models.catalog import MEMBER_MODELS
from forecasting.models.statespace import RegressionARIMA, Structural

__all__ = ["REGISTRY", "describe_model", "get_model", "list_models"]

#: Every registered model: the single models, then the combinations built on them.
REGISTRY: dict[str, type[BaseForecaster]] = {
    **MEMBER_MODELS,
    "regression_arima": RegressionARIMA,
    "structural": Structural,
    "ensemble": Ensemble,
    "auto": Auto,
}


def list_models() -> list[str]:
    """Registered model names, in registration order."""
    return list(REGISTRY)


def describe_model(name: str) -> str:
    """One sentence on what the registered model ``name`` is: its class docstring's summary.

    The summary is the docstring's first paragraph, its reStructuredText literals
    (````d````) shown as plain text, so the sentence reads the same in the API and in a shell.

    Raises
    ------
    NotFoundError
        If ``name`` is not registered.
    """
    try:
        cls = REGISTRY[name]
    except (KeyError, TypeError):
        raise NotFoundError(f"unknown model {name!r}; choose one of: {', '.join(REGISTRY)}.") from None
    doc = inspect.getdoc(cls) or ""
    summary = " ".join(doc.split("\n\n", 1)[0].split())
    return summary.replace("``", "")


def get_model(name: str, **params: Any) -> BaseForecaster:
    """Build the registered model ``name`` with ``params``.

    Raises
    ------
    NotFoundError
        If ``name`` is not registered.
    InvalidParameterError
        If ``params`` are not parameters of that model.
    """
    try:
        cls = REGISTRY[name]
    except (KeyError, TypeError):
        raise NotFoundError(f"unknown model {name!r}; choose one of: {', '.join(REGISTRY)}.") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidParameterError(f"invalid parameters for model {name!r}: {exc}") from None
