"""The sample report ``china-russia``, created by ``tradecast load-samples``."""

from __future__ import annotations

import logging

from data import Store
from reports.definitions import ReportDefinition, check_definition
from reports.exceptions import ReportExistsError
from reports.store import SUCCEEDED, ReportStore

__all__ = ["SAMPLE_REPORT", "ensure_sample_report"]

logger = logging.getLogger(__name__)

#: Series of the sample report that have gaps: forecast by the structural model, which skips
#: the months with no published figure instead of filling them in (``missing="model"``).
_GAPPY = {"missing": "model", "model": "structural"}

#: Weekly (Mondays 07:00 Moscow time) report on the bundled China-Russia series: the annual
#: total (complete recent years: the report's own model), monthly total, exports and imports
#: (GACC press figures, sparse before 2022) and the yuan's shares in Russia's export and import
#: settlements (eight scattered months); then the two sample structures, coherent tables fitted
#: through the gaps (``missing="model"`` in their definitions).
SAMPLE_REPORT = check_definition(
    ReportDefinition(
        name="china-russia",
        title="China\u2013Russia trade",
        description=(
            "China\u2013Russia trade as China's customs (GACC) reported it, USD bn: the annual total, "
            "and monthly total, exports and imports; and the yuan's share in Russia's export and import "
            "settlements (Bank of Russia). Forecasts with 80% and 95% prediction intervals. Monthly "
            "figures and shares are published irregularly: their forecasts use every published figure "
            "and skip the missing months. At the end, two coherent tables: annual exports + imports = total, "
            "and the yuan, ruble and dollar-and-euro shares of Russia's export settlements forecast to sum "
            "to 100%, both fitted through the years and months that were not published. Bundled sample "
            "data."
        ),
        series_ids=(
            "cn_ru_trade_total_annual",
            "cn_ru_trade_total_monthly",
            "cn_ru_exports_monthly",
            "cn_ru_imports_monthly",
            "ru_export_settlement_share_cny",
            "ru_import_settlement_share_cny",
        ),
        horizon=3,
        levels=(80, 95),
        model="auto",
        schedule="0 7 * * 1",
        timezone="Europe/Moscow",
        structures=("cn-ru-trade", "ru-export-settlement-currencies"),
        # Each run writes the PDF and the workbook next to the HTML in the report directory.
        formats=("html", "pdf", "xlsx"),
        series_options={
            "cn_ru_trade_total_monthly": dict(_GAPPY),
            "cn_ru_exports_monthly": dict(_GAPPY),
            "cn_ru_imports_monthly": dict(_GAPPY),
            "ru_export_settlement_share_cny": {**_GAPPY, "kind": "share"},
            "ru_import_settlement_share_cny": {**_GAPPY, "kind": "share"},
        },
    )
)


def ensure_sample_report(store: Store, *, run_now: bool = True, backtest_windows: int = 3) -> bool:
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
