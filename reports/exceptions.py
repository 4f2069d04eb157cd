"""Exceptions raised by :mod:`reports`.

Each refines a :mod:`forecasting` or :mod:`data` error, so the API's MRO-based status
table maps it without knowing about :mod:`reports`::

    ReportNotFoundError(NotFoundError)     404: no report definition of that name
    RunNotFoundError(NotFoundError)        404: no run of that id / no successful run yet
    ReportExistsError(ConflictError)       409: a report of that name already exists
    ScheduleNeverFiresError(InvalidParameterError)
                                           422: a cron schedule that matches no date
    UnknownReportSeriesError(InvalidParameterError)
                                           422: a definition naming series not in the store
    WebhookAddressError(InvalidParameterError)
                                           422: a webhook URL whose host is internal (loopback,
                                           private, link-local...); ``details.rule`` names the rule
    NoSeriesForecastError(ModelFitError)   a run in which no series could be forecast
                                           (recorded on the failed run, shown to clients)
    RenderUnavailableError(RuntimeError)   PDF asked for and Chromium is not installed
    RenderFailedError(RuntimeError)        the renderer ran and failed
"""

from __future__ import annotations

from typing import Any

from data.exceptions import ConflictError
from forecasting.exceptions import InvalidParameterError, ModelFitError, NotFoundError

__all__ = [
    "NoSeriesForecastError",
    "RenderFailedError",
    "RenderUnavailableError",
    "ReportExistsError",
    "ReportNotFoundError",
    "RunFileNotFoundError",
    "RunNotFoundError",
    "ScheduleNeverFiresError",
    "UnknownReportSeriesError",
    "WebhookAddressError",
]


class ReportNotFoundError(NotFoundError):
    """No report definition has this name."""

    code = "report_not_found"


class RunNotFoundError(NotFoundError):
    """No run of this report has this id (or no run has succeeded yet)."""

    code = "run_not_found"


class RunFileNotFoundError(RunNotFoundError):
    """The run exists but has no file of this format (not asked for, or not written)."""

    code = "run_file_not_found"


class ReportExistsError(ConflictError):
    """A report definition of this name already exists."""

    code = "report_exists"


class ScheduleNeverFiresError(InvalidParameterError):
    """A cron schedule matches no date (``0 0 30 2 *``); ``details`` names the fields."""

    code = "schedule_never_fires"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class NoSeriesForecastError(ModelFitError):
    """A report run in which no series could be forecast; the message names each series' problem."""

    code = "no_series_forecast"


class UnknownReportSeriesError(InvalidParameterError):
    """A report definition names series the store does not hold; ``details`` lists them."""

    code = "unknown_series"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class WebhookAddressError(InvalidParameterError):
    """A webhook URL whose host is or resolves to an internal address (see :mod:`reports.webhooks`).

    ``details`` holds ``field`` (``delivery.webhook_url``) and ``rule`` (``loopback``,
    ``private``, ``link_local``, ``unique_local``, ``multicast``, ``unspecified``,
    ``reserved``, ``internal_name`` or ``unresolvable``).
    """

    code = "webhook_address_refused"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class RenderUnavailableError(RuntimeError):
    """An output format needs a program that is not installed (PDF needs Chromium).

    Not a client error: the service is missing a part, so it maps to a 500 on the API and the
    message says what to install.
    """

    code = "render_unavailable"


class RenderFailedError(RuntimeError):
    """The program that renders a format ran and failed (its exit status and last output are kept)."""

    code = "render_failed"
