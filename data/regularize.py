"""Period parsing moved to :mod:`forecasting.periods`; these names stay importable from here.

The store decodes period labels with them, and :mod:`forecasting` may not import
:mod:`data`, so the one implementation lives in :mod:`forecasting`.
"""

from __future__ import annotations

from forecasting.periods import (
    ANNUAL,
    DATE,
    MONTHLY,
    QUARTERLY,
    UNKNOWN,
    ParsedPeriods,
    frequency_of,
    infer_date_frequency,
    parse_period_strings,
    period_strings,
    to_periods,
)

__all__ = [
    "ANNUAL",
    "DATE",
    "MONTHLY",
    "QUARTERLY",
    "UNKNOWN",
    "ParsedPeriods",
    "frequency_of",
    "infer_date_frequency",
    "parse_period_strings",
    "period_strings",
    "to_periods",
]
