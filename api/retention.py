"""Retention: the service deletes archived forecasts and report runs older than the setting, hourly.

``TRADECAST_FORECAST_RETENTION_DAYS`` (0 = keep everything) is applied by a daemon thread
started with the service; ``tradecast prune`` does the same once, by hand or from cron. The
deletions themselves are :meth:`data.archive.ForecastArchive.prune_forecasts` and
:func:`reports.retention.prune_runs` (runs with their delivery log and their HTML,
PDF and Excel files; the latest successful run of each report is kept), in short batches so
the service keeps writing meanwhile. Several processes may prune at once: deleting an old
row twice is a no-op.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from reports.retention import prune_runs
from reports.store import ReportStore

if TYPE_CHECKING:
    from data import Store

__all__ = ["ArchivePruner", "start_pruner", "stop_pruner"]

logger = logging.getLogger(__name__)

#: Seconds between two prunes by the service.
PRUNE_INTERVAL_SECONDS = 3600.0


class ArchivePruner:
    """Deletes archived forecasts and report runs older than ``days`` now, then every ``interval`` seconds."""

    def __init__(self, store: Store, days: int, interval: float = PRUNE_INTERVAL_SECONDS) -> None:
        self.store = store
        self.older_than = timedelta(days=days)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prune_once(self) -> int:
        """One prune of forecasts and report runs; returns how many rows of each went, summed.

        A failure (the database is down) is logged, and the next prune retries.
        """
        deleted = 0
        try:
            deleted += self.store.archive.prune_forecasts(self.older_than)
        except Exception:
            logger.exception("forecast archive: prune failed; retrying in %.0f s", self.interval)
        try:
            deleted += prune_runs(ReportStore.for_store(self.store), self.older_than)
        except Exception:
            logger.exception("report runs: prune failed; retrying in %.0f s", self.interval)
        return deleted

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.prune_once()
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Start the background thread (the first prune runs at once)."""
        self._thread = threading.Thread(target=self._loop, name="archive-pruner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, waiting for a prune in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def start_pruner(store: Store, days: int) -> ArchivePruner | None:
    """Start pruning the archive of ``store`` every hour, or ``None`` when ``days`` is 0."""
    if days <= 0:
        return None
    pruner = ArchivePruner(store, days)
    pruner.start()
    logger.info("forecast archive: keeping %d day(s), pruned hourly", days)
    return pruner


def stop_pruner(pruner: ArchivePruner | None) -> None:
    """Stop ``pruner`` if there is one."""
    if pruner is not None:
        pruner.stop()
