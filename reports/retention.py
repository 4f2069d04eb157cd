"""Retention of report runs: old runs, their delivery log and their files are deleted.

The service applies ``TRADECAST_FORECAST_RETENTION_DAYS`` to report runs as to archived
forecasts (``api/retention.py``, hourly, and ``tradecast prune``). The latest successful run
of each report is kept whatever its age (``GET /v1/reports/{name}/runs/latest`` keeps
answering), and running runs are never touched. A run wrote its HTML (``details["file"]``)
and other formats (``details["files"]``) under the report directory; they go after the rows.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, select

from data.progress_repo import REPORT_RUN
from data.tables import JobProgressTable, ReportDeliveriesTable, ReportRunsTable
from reports.exceptions import RunNotFoundError
from reports.store import RUNNING, ReportStore

__all__ = ["prune_runs"]

logger = logging.getLogger(__name__)

_R = cast(Table, ReportRunsTable.__table__)
_P = cast(Table, JobProgressTable.__table__)
_L = cast(Table, ReportDeliveriesTable.__table__)
#: Runs deleted per write transaction: short, so the service keeps writing meanwhile.
_BATCH = 500


def prune_runs(reports: ReportStore, older_than: timedelta, *, now: datetime | None = None) -> int:
    """Delete finished runs created more than ``older_than`` ago, with their deliveries and files.

    Returns the number of runs deleted. A file already gone is not an error.
    """
    cutoff = (now or datetime.now(UTC)) - older_than
    with reports.db.read() as conn:
        rows = conn.execute(
            select(_R.c.id, _R.c.report_name, _R.c.details).where(_R.c.created_at < cutoff, _R.c.status != RUNNING)
        ).all()
    keep = {_latest_success_id(reports, name) for name in {r.report_name for r in rows}}
    doomed = [r for r in rows if r.id not in keep]
    for start in range(0, len(doomed), _BATCH):
        ids = [r.id for r in doomed[start : start + _BATCH]]
        with reports.db.write() as conn:
            conn.execute(delete(_L).where(_L.c.run_id.in_(ids)))
            conn.execute(delete(_P).where(_P.c.kind == REPORT_RUN, _P.c.job_id.in_(ids)))
            conn.execute(delete(_R).where(_R.c.id.in_(ids)))
    for row in doomed:
        _remove_files(row.details or {})
    if doomed:
        logger.info("pruned %d report run(s) created before %s", len(doomed), cutoff.isoformat())
    return len(doomed)


def _latest_success_id(reports: ReportStore, name: str) -> str | None:
    try:
        return reports.latest_run(name).run_id
    except RunNotFoundError:
        return None


def _remove_files(details: dict[str, Any]) -> None:
    """Delete the files a run wrote (``details["file"]``: the HTML; ``details["files"]``: the others)."""
    for path in [details.get("file"), *(details.get("files") or {}).values()]:
        if isinstance(path, str) and path:
            try:
                Path(path).unlink(missing_ok=True)
            except OSError:
                logger.warning("report run file %s could not be deleted", path, exc_info=True)
