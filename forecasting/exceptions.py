"""Exceptions and warnings raised by :mod:`forecasting`.

The series errors below :class:`InvalidSeriesError` are raised by the one series parser,
:mod:`forecasting.series`, whichever door the observations come through (file, store,
REST body, report); the door only says where (line and column, or ``data[i]``).

Every error also inherits the builtin it refines, so ``except ValueError`` keeps working,
and carries a snake_case ``code`` that the REST layer puts in its error body::

    ForecastingError(Exception)
    ├── InvalidParameterError(ValueError)      bad hyperparameter / horizon / levels
    │   ├── DriversNotSupportedError           drivers (X) given to a model that takes none
    │   ├── InvalidDriversError                X misaligned with y, non-numeric or with gaps
    │   ├── FutureDriversError                 X_future missing, misaligned or of other columns
    │   ├── MissingNotSupportedError           missing="model" with a model that cannot take gaps
    │   ├── InvalidEventError                  a known event that is malformed (no date, bad end)
    │   │   ├── UnknownEventTypeError          an event type other than the four known
    │   │   └── EventOutOfRangeError           an event dated outside the series and horizon
    │   └── InvalidHierarchyError              a hierarchy that is not a sum structure
    │       ├── HierarchyCycleError            an id that (indirectly) sums itself
    │       └── UnknownHierarchyIdError        a hierarchy id with no series in the frame
    ├── InvalidSeriesError(ValueError)         irregular index, NaN, wrong dtype, bad values
    │   ├── InsufficientDataError              shorter than min_obs()
    │   ├── InvalidSeriesIdError               id not 1-100 of A-Z a-z 0-9 _ . -
    │   ├── UnreadablePeriodError              a period label that is no period
    │   ├── EmptyPeriodError                   no period given
    │   ├── DuplicatePeriodError               one period twice in a series
    │   ├── MixedFrequencyError                periods of two frequencies in a series
    │   ├── UnknownFrequencyError              a frequency other than annual/quarterly/monthly
    │   ├── UnknownKindError                   a kind other than level/share
    │   ├── NonNumericValueError               a value that is not a number
    │   ├── NonFiniteValueError                an infinite value
    │   ├── ShareOutOfRangeError               a share outside [0, 1]
    │   ├── NegativeValueError                 a negative trade value
    │   ├── MissingPeriodsError                gaps where a complete series is needed
    │   ├── MissingValuesError                 null/NaN values where a complete series is needed
    │   ├── EmptySeriesError                   a series with no values at all
    │   ├── IncoherentTotalError               stated totals that are not the sum of their parts
    │   ├── CompositionSumError                a composition that does not sum to 1
    │   └── MisalignedPeriodsError             series of one structure on different periods
    │       └── FrequencyMismatchError         series of one structure at different frequencies
    ├── IntervalsNotSupportedError(ValueError) levels requested from a point-only model
    ├── NotFittedError(AttributeError)         predict before fit (a bug in callers)
    ├── ModelFitError(RuntimeError)            estimation failed on this data
    ├── NotFoundError(LookupError)             unknown model / series / report
    └── WorkerLostError(RuntimeError)          a worker process died under a task (executor)

    ForecastingWarning(UserWarning)
    ├── ConvergenceWarning                     an optimiser stopped early
    ├── FallbackWarning                        a simpler model took over after a failure
    │   └── MemberDroppedWarning               a combination left out a member that failed on this series
    ├── ThinEvidenceWarning                    a forecast from few observations
    ├── SparseSeriesWarning                    a forecast from a sparse publication (many missing periods)
    ├── BacktestCoverageWarning                the series' own backtest coverage is far from nominal
    ├── StructuralBreakWarning                 a strong structural break in the history
    ├── DriverForecastWarning                  a driver's missing future was forecast by its own model
    ├── ReconciliationWarning                  reconciliation moved a node outside its own 80% band
    └── FrequencyWarning                       the frequency was guessed or is unusual
"""

from __future__ import annotations

__all__ = [
    "CompositionSumError",
    "ConvergenceWarning",
    "DriverForecastWarning",
    "ReconciliationWarning",
    "DriversNotSupportedError",
    "DuplicatePeriodError",
    "EmptyPeriodError",
    "EmptySeriesError",
    "EventOutOfRangeError",
    "FallbackWarning",
    "MemberDroppedWarning",
    "ThinEvidenceWarning",
    "SparseSeriesWarning",
    "BacktestCoverageWarning",
    "ForecastingError",
    "ForecastingWarning",
    "FrequencyMismatchError",
    "FrequencyWarning",
    "FutureDriversError",
    "HierarchyCycleError",
    "IncoherentTotalError",
    "InsufficientDataError",
    "IntervalsNotSupportedError",
    "InvalidDriversError",
    "InvalidEventError",
    "InvalidHierarchyError",
    "InvalidParameterError",
    "InvalidSeriesError",
    "InvalidSeriesIdError",
    "MisalignedPeriodsError",
    "MissingNotSupportedError",
    "MissingPeriodsError",
    "MissingValuesError",
    "MixedFrequencyError",
    "ModelFitError",
    "NotFittedError",
    "NegativeValueError",
    "NonFiniteValueError",
    "NonNumericValueError",
    "NotFoundError",
    "ShareOutOfRangeError",
    "StructuralBreakWarning",
    "UnknownFrequencyError",
    "UnknownEventTypeError",
    "UnknownHierarchyIdError",
    "UnknownKindError",
    "UnreadablePeriodError",
    "WorkerLostError",
]


class ForecastingError(Exception):
    """Base class of every error raised by :mod:`forecasting`."""

    code = "forecasting_error"


class InvalidParameterError(ForecastingError, ValueError):
    """A hyperparameter, horizon or list of levels is invalid."""

    code = "invalid_parameter"


class InvalidSeriesError(ForecastingError, ValueError):
    """The input series cannot be modelled as given (index, NaN, values).

    Parameters
    ----------
    message : str
        The full message (with the place, when the parser knows it).
    location : str, optional
        Where the problem is, as the door names it: ``"data[3].y"`` or ``"line 4, column 3 (y)"``.
    value : str, optional
        The offending value, as given.
    series_id : str, optional
        The series concerned.
    row : int, optional
        0-based position of the offending observation in the parser's input, so a door can
        translate it into its own coordinates.
    """

    code = "invalid_series"

    def __init__(
        self,
        message: str = "",
        *,
        location: str | None = None,
        value: str | None = None,
        series_id: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.location = location
        self.value = value
        self.series_id = series_id
        self.row = row

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only state survives pickling (errors come back from worker processes).
        return (type(self), self.args, dict(self.__dict__))

    def details(self) -> dict[str, object]:
        """The place and the value, for an error body's ``details`` (empty when unknown)."""
        found = {"field": self.location, "value": self.value, "series_id": self.series_id}
        return {k: v for k, v in found.items() if v is not None}


class InsufficientDataError(InvalidSeriesError):
    """The series is shorter than the model needs."""

    code = "insufficient_data"


class InvalidSeriesIdError(InvalidSeriesError):
    """A series id is not 1-100 characters of ``A-Z a-z 0-9 _ . -`` (ids appear in URLs)."""

    code = "invalid_series_id"


class UnreadablePeriodError(InvalidSeriesError):
    """A period label is not a year, quarter, month or date."""

    code = "unreadable_period"


class EmptyPeriodError(InvalidSeriesError):
    """An observation has no period."""

    code = "empty_period"


class DuplicatePeriodError(InvalidSeriesError):
    """A series gives the same period twice."""

    code = "duplicate_period"


class MixedFrequencyError(InvalidSeriesError):
    """A series mixes periods of two frequencies, or contradicts its declared frequency."""

    code = "mixed_frequency"


class UnknownFrequencyError(InvalidSeriesError):
    """A frequency is not annual, quarterly or monthly, or cannot be told from the dates."""

    code = "unknown_frequency"


class UnknownKindError(InvalidSeriesError):
    """A series kind is not ``level`` or ``share``."""

    code = "unknown_kind"


class NonNumericValueError(InvalidSeriesError):
    """A value is not a number."""

    code = "non_numeric_value"


class NonFiniteValueError(InvalidSeriesError):
    """A value is infinite."""

    code = "non_finite_value"


class ShareOutOfRangeError(InvalidSeriesError):
    """A value of a ``share`` series lies outside [0, 1]."""

    code = "share_out_of_range"


class NegativeValueError(InvalidSeriesError):
    """A ``level`` series holds a negative value where trade values are expected."""

    code = "negative_value"


class MissingPeriodsError(InvalidSeriesError):
    """A series has gaps (missing periods) where a complete one is needed."""

    code = "missing_periods"


class MissingValuesError(InvalidSeriesError):
    """A series has missing (null/NaN) values where a complete one is needed."""

    code = "missing_values"


class EmptySeriesError(InvalidSeriesError):
    """A series has no values at all."""

    code = "empty_series"


class DriversNotSupportedError(InvalidParameterError):
    """Drivers (``X`` / ``X_future``) were given to a model that takes none."""

    code = "drivers_not_supported"


class InvalidDriversError(InvalidParameterError):
    """The drivers ``X`` are not aligned with ``y``'s index, not numeric, or have gaps."""

    code = "invalid_drivers"


class FutureDriversError(InvalidParameterError):
    """``X_future`` is missing, does not continue the index over the horizon, or has other columns."""

    code = "invalid_future_drivers"


class MissingNotSupportedError(InvalidParameterError):
    """``missing="model"`` was asked of a model whose likelihood cannot take missing observations."""

    code = "missing_not_supported"


class InvalidEventError(InvalidParameterError):
    """A known event is malformed: not a mapping, no readable date, or a bad ``end``."""

    code = "invalid_event"


class UnknownEventTypeError(InvalidEventError):
    """An event type other than ``level_shift``, ``pulse``, ``ramp``, ``seasonal_change``."""

    code = "unknown_event_type"


class EventOutOfRangeError(InvalidEventError):
    """An event dated outside the series and its horizon, or one the history cannot estimate."""

    code = "event_out_of_range"


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


class MemberDroppedWarning(FallbackWarning):
    """A combination (``auto``, ``ensemble``) left out a member that raised or whose output
    failed the forecast-frame checks on this series; the others were re-weighted equally."""

    code = "member_dropped"


class ThinEvidenceWarning(ForecastingWarning):
    """The forecast rests on few observations (see :mod:`forecasting.evidence` for the rule)."""

    code = "thin_evidence"


class SparseSeriesWarning(ForecastingWarning):
    """The series is a sparse publication: many of its periods have no published value."""

    code = "sparse_series"


class BacktestCoverageWarning(ForecastingWarning):
    """The series' own backtest intervals covered far less (or more) often than their level."""

    code = "backtest_coverage"


class FrequencyWarning(ForecastingWarning):
    """The frequency of the series is unusual or was inferred."""

    code = "frequency"


class StructuralBreakWarning(ForecastingWarning):
    """The history has a strong structural break; intervals may be too narrow."""

    code = "structural_break"


class DriverForecastWarning(ForecastingWarning):
    """A driver had no values over (part of) the horizon; its own univariate forecast stands in."""

    code = "driver_forecast"


class ReconciliationWarning(ForecastingWarning):
    """Reconciliation moved a node of a structure outside its own base forecast's 80% band."""

    code = "reconciliation_moved"


class WorkerLostError(ForecastingError, RuntimeError):
    """A worker process died while running a task (killed, out of memory); retrying may work."""

    code = "worker_lost"


# --------------------------------------------------------------------------- structures
# Hierarchies and compositions (forecasting.structure). Hierarchy errors are parameter
# errors (the mapping is an argument); the others are about the observations.


class InvalidHierarchyError(InvalidParameterError):
    """A hierarchy is not a mapping of aggregate ids to non-empty lists of the ids they sum."""

    code = "invalid_hierarchy"


class HierarchyCycleError(InvalidHierarchyError):
    """An id sums itself, directly or through other aggregates."""

    code = "hierarchy_cycle"


class UnknownHierarchyIdError(InvalidHierarchyError):
    """A hierarchy names an id that has no series in the frame (and cannot be derived)."""

    code = "unknown_hierarchy_id"


class IncoherentTotalError(InvalidSeriesError):
    """A stated total differs from the sum of its parts by more than the tolerance."""

    code = "incoherent_total"


class CompositionSumError(InvalidSeriesError):
    """The components of a composition do not sum to 1 (beyond the tolerance) at some period."""

    code = "composition_not_summing_to_one"


class MisalignedPeriodsError(InvalidSeriesError):
    """The series of one structure do not cover the same periods."""

    code = "misaligned_periods"


class FrequencyMismatchError(MisalignedPeriodsError):
    """The series of one structure have different frequencies."""

    code = "frequency_mismatch"
