"""Exceptions raised by :mod:`reports`.

Each refines a :mod:`forecasting` or :mod:`data` error, so the API's MRO-based status
table maps it without knowing about :mod:`reports`::

    ReportNotFoundError(NotFoundError)     404: no report definition of that name
    RunNotFoundError(NotFoundError)        404: no run of that id / no successful run yet
    ReportExistsError(ConflictError)       409: a report of that name already exists
"""

from __future__ import annotations

from data.exceptions import ConflictError
from forecasting.exceptions import NotFoundError

__all__ = ["ReportExistsError", "ReportNotFoundError", "RunNotFoundError"]


class ReportNotFoundError(NotFoundError):
    """No report definition has this name."""

    code = "report_not_found"


class RunNotFoundError(NotFoundError):
    """No run of this report has this id (or no run has succeeded yet)."""

    code = "run_not_found"


class ReportExistsError(ConflictError):
    """A report definition of this name already exists."""

    code = "report_exists"
