"""The sample report ``china-russia``, created by ``tradecast load-samples``."""

from __future__ import annotations

import logging
from typing import Any

from reports.definitions import ReportDefinition, check_definition
from reports.exceptions import ReportExistsError
from reports.store import SUCCEEDED, ReportStore

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


def ensure_sample_report(store: Any, *, run_now: bool = True, backtest_windows: int = 3) -> bool:
    """Create the sample report ``china-russia`` in ``store`` unless it exists.

    With ``run_now`` (the default), a first run is made when the report has no successful
    run yet, so ``GET /v1/reports/china-russia/runs/latest`` answers right after
    ``tradecast load-samples``; the weekly schedule takes over from there.

    Parameters
    ----------
    store : data.Store
        A store whose schema is created and which holds the bundled samples.
    run_now : bool
        Whether to make the first run now if there is none.
    backtest_windows : int
        Rolling-origin windows of the first run's accuracy table.

    Returns
    -------
    bool
        Whether the report definition was created now.
    """
    reports = ReportStore.for_store(store)
    created = False
    if not reports.has_definition(SAMPLE_REPORT.name):
        try:
            reports.create_definition(SAMPLE_REPORT)
            created = True
            logger.info("created the sample report %r", SAMPLE_REPORT.name)
        except ReportExistsError:  # created concurrently by another process
            pass
    if run_now and reports.count_runs(SAMPLE_REPORT.name, status=SUCCEEDED) == 0:
        from reports.jobs import run_report

        run = run_report(
            SAMPLE_REPORT.name,
            None,
            store,
            trigger="samples",
            # The HTML is kept in the database; no file is written from load-samples.
            report_dir=None,
            backtest_windows=backtest_windows,
        )
        logger.info("sample report %r: first run %s %s", SAMPLE_REPORT.name, run.run_id, run.status)
    return created
