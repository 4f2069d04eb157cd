"""Exceptions and warnings raised by :mod:`forecasting`.

Every error also inherits the builtin it refines, so ``except ValueError`` keeps working,
and carries a snake_case ``code`` that the REST layer puts in its error body::

    ForecastingError(Exception)
    ├── InvalidParameterError(ValueError)      bad hyperparameter / horizon / levels
    ├── InvalidSeriesError(ValueError)         irregular index, NaN, wrong dtype, bad values
    │   └── InsufficientDataError              shorter than min_obs()
    ├── IntervalsNotSupportedError(ValueError) levels requested from a point-only model
    ├── NotFittedError(AttributeError)         predict before fit (a bug in callers)
    ├── ModelFitError(RuntimeError)            estimation failed on this data
    ├── NotFoundError(LookupError)             unknown model / series / report
    └── WorkerLostError(RuntimeError)          a worker process died under a task (executor)

    ForecastingWarning(UserWarning)
    ├── ConvergenceWarning                     an optimiser stopped early
    ├── FallbackWarning                        a simpler model took over after a failure
    └── FrequencyWarning                       the frequency was guessed or is unusual
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "FallbackWarning",
    "ForecastingError",
    "ForecastingWarning",
    "FrequencyWarning",
    "InsufficientDataError",
    "IntervalsNotSupportedError",
    "InvalidParameterError",
    "InvalidSeriesError",
    "ModelFitError",
    "NotFittedError",
    "NotFoundError",
    "WorkerLostError",
]


class ForecastingError(Exception):
    """Base class of every error raised by :mod:`forecasting`."""

    code = "forecasting_error"


class InvalidParameterError(ForecastingError, ValueError):
    """A hyperparameter, horizon or list of levels is invalid."""

    code = "invalid_parameter"


class InvalidSeriesError(ForecastingError, ValueError):
    """The input series cannot be modelled as given (index, NaN, values)."""

    code = "invalid_series"


class InsufficientDataError(InvalidSeriesError):
    """The series is shorter than the model needs."""

    code = "insufficient_data"


class IntervalsNotSupportedError(ForecastingError, ValueError):
    """Prediction intervals were requested from a point-forecast-only model."""

    code = "intervals_not_supported"


class NotFittedError(ForecastingError, AttributeError):
    """``predict`` was called before ``fit``."""

    code = "not_fitted"


class ModelFitError(ForecastingError, RuntimeError):
    """Estimation failed on this data."""

    code = "model_fit_error"


class NotFoundError(ForecastingError, LookupError):
    """An unknown model, series or report was named."""

    code = "not_found"


class ForecastingWarning(UserWarning):
    """Base class of warnings emitted by :mod:`forecasting`."""

    code = "forecasting_warning"


class ConvergenceWarning(ForecastingWarning):
    """An optimiser did not converge; the result may be poor."""

    code = "convergence"


class FallbackWarning(ForecastingWarning):
    """A model failed and a simpler one took over."""

    code = "fallback"


class FrequencyWarning(ForecastingWarning):
    """The frequency of the series is unusual or was inferred."""

    code = "frequency"


class WorkerLostError(ForecastingError, RuntimeError):
    """A worker process died while running a task (killed, out of memory); retrying may work."""

    code = "worker_lost"
