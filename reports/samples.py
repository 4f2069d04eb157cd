"""The sample report ``china-russia``, created by ``tradecast load-samples``."""

from __future__ import annotations

import logging
from typing import Any

from reports.definitions import ReportDefinition, check_definition
from reports.exceptions import ReportExistsError
from reports.store import ReportStore

__all__ = ["SAMPLE_REPORT", "ensure_sample_report"]

logger = logging.getLogger(__name__)

#: Weekly (Mondays 07:00 Moscow time) report on the bundled China-Russia trade series.
#: Only the annual total is included: the bundled monthly and export/import series have
#: gaps right before their latest figure, so no model can be fitted to them without
#: inventing data (a report over them would only show why each could not be forecast).
SAMPLE_REPORT = check_definition(
    ReportDefinition(
        name="china-russia",
        title="China\u2013Russia trade",
        description=(
            "China\u2013Russia trade turnover as China's customs (GACC) reported it, USD bn, with "
            "forecasts, 80% and 95% prediction intervals, backtest accuracy and a scorecard of "
            "earlier forecasts. Bundled sample data; load newer figures to update it."
        ),
        series_ids=("cn_ru_trade_total_annual",),
        horizon=3,
        levels=(80, 95),
        model="auto",
        schedule="0 7 * * 1",
        timezone="Europe/Moscow",
    )
)


def ensure_sample_report(store: Any) -> bool:
    """Create the sample report ``china-russia`` in ``store`` unless it exists.

    Parameters
    ----------
    store : data.Store
        A store whose schema is created.

    Returns
    -------
    bool
        Whether the report was created now.
    """
    reports = ReportStore.for_store(store)
    if reports.has_definition(SAMPLE_REPORT.name):
        return False
    try:
        reports.create_definition(SAMPLE_REPORT)
    except ReportExistsError:  # created concurrently by another process
        return False
    logger.info("created the sample report %r", SAMPLE_REPORT.name)
    return True
