"""Scheduled refresh of source queries: fetch, store a vintage only if the data changed,
then run the reports that use the changed series.

:func:`run_refresh` is what the scheduler, the CLI (``tradecast refresh run``) and the API
(``POST /v1/refreshes/{name}/run``) call. :class:`RefreshScheduler` only maps each stored
refresh's cron schedule (the report scheduler's cron code, :func:`build_trigger`) to
:func:`run_refresh`; each fire runs once across processes because a fire is claimed first
by moving ``last_fire`` forward in one conditional UPDATE
(:meth:`data.sources_repo.SourcesRepository.claim_fire`).

This lives in :mod:`reports` because it runs reports; :mod:`data` holds the rows and the
connectors and never imports :mod:`reports`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from data import Store
from data.connectors import SourceError, SourceOptions, fetch_source
from data.progress_repo import SOURCE_REFRESH, ProgressTracker
from data.sources_repo import FetchOutcome, RefreshDefinition, StoredRefresh
from reports.definitions import build_trigger
from reports.jobs import resolve_series_ids, run_report
from reports.options import ReportOptions
from reports.scheduler import background_scheduler, previous_fire_time, stored_trigger, sync_cron_jobs
from reports.store import ReportRun, ReportStore

__all__ = [
    "RefreshResult",
    "RefreshScheduler",
    "create_refresh",
    "reports_using",
    "run_refresh",
    "start_refresh_scheduler",
]

logger = logging.getLogger(__name__)

_JOB_PREFIX = "refresh:"
_SYNC_JOB = "refresh-sync"
SUCCEEDED = "succeeded"
#: The data were fetched and stored, but a report run it triggered failed.
PARTIAL = "partial"
FAILED = "failed"


@dataclass
class RefreshResult:
    """What one refresh run did.

    Attributes
    ----------
    name : str
        The refresh.
    fetched : list of FetchOutcome
        Each series fetched; ``created`` marks a new vintage (its data changed).
    reports : list of ReportRun
        The report runs triggered because they use a changed series.
    """

    name: str
    fetched: list[FetchOutcome] = field(default_factory=list)
    reports: list[ReportRun] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        """Ids of the series that got a new vintage."""
        return [o.series_id for o in self.fetched if o.created]

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary kept with the refresh."""
        return {
            "series": [
                {"series_id": o.series_id, "vintage_id": o.vintage.vintage_id, "created": o.created}
                for o in self.fetched
            ],
            "reports": [{"name": r.report_name, "run_id": r.run_id, "status": r.status} for r in self.reports],
        }


def create_refresh(store: Store, definition: RefreshDefinition) -> StoredRefresh:
    """Check the schedule (cron, time zone) and store the refresh.

    Raises
    ------
    InvalidParameterError
        On an invalid cron expression or time zone (a schedule that never fires included).
    InvalidRefreshError, RefreshExistsError
        From the store: bad name, source or query; the name is taken.
    """
    build_trigger(definition.schedule, definition.timezone)
    stored: StoredRefresh = store.sources.create_refresh(definition)
    return stored


def reports_using(store: Store, series_ids: list[str]) -> list[str]:
    """Names of the report definitions (enabled or not) that include any of ``series_ids``."""
    wanted = set(series_ids)
    if not wanted:
        return []
    names = []
    for stored in ReportStore.for_store(store).list_definitions():
        if wanted.intersection(resolve_series_ids(stored.definition, store.series)):
            names.append(stored.definition.name)
    return names


def _as_of_after(written: list[datetime]) -> datetime:
    """The first whole second after the new vintages, once it has passed.

    Report runs key on whole seconds (``run_report`` drops microseconds): waiting for the
    boundary (under a second) makes the run read the new vintages, never stand in the future,
    and never share its key with the run of an earlier refresh in the same second.
    """
    latest = max([datetime.now(UTC), *written])
    boundary = latest.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (boundary - datetime.now(UTC)).total_seconds()))
    return boundary


def run_refresh(
    name: str,
    store: Store,
    *,
    options: ReportOptions | None = None,
    sources: SourceOptions | None = None,
    client: httpx.Client | None = None,
    progress: ProgressTracker | None = None,
) -> RefreshResult:
    """Fetch refresh ``name``, store changed series as new vintages, run the reports using them.

    Parameters
    ----------
    name : str
        A stored refresh.
    store : data.Store
        The store.
    options : ReportOptions, optional
        How triggered reports run (directory, backtest windows, workers).
    sources : SourceOptions, optional
        Timeout and credentials of the connectors.
    client : httpx.Client, optional
        HTTP client for the connector (tests pass recorded responses).
    progress : ProgressTracker, optional
        Where the run counts its items (the fetch, then each report run); by default the
        refresh's own record (``source_refresh``, ``name``), a job passes its own.

    Returns
    -------
    RefreshResult

    Raises
    ------
    RefreshNotFoundError
        If no refresh has that name.
    SourceError
        If the fetch failed (recorded on the refresh as ``failed`` before it is raised).
    """
    options = options or ReportOptions()
    definition = store.sources.get_refresh(name).definition
    # Items: the fetch, then each report run it triggers (added once known).
    if progress is None:
        progress = ProgressTracker(store.progress, SOURCE_REFRESH, name)
    progress.begin(1)
    try:
        fetched = fetch_source(definition.source, definition.query, options=sources, client=client)
        outcome = RefreshResult(name, store.sources.store_fetch(fetched, series_id=definition.series_id))
    except SourceError as exc:
        store.sources.record_run(name, FAILED, error=f"{exc.code}: {exc}")
        progress.item_done(f"fetch {definition.source}:{definition.query}", exc)
        logger.warning("refresh %s failed: %s", name, exc)
        raise
    progress.item_done(f"fetch {definition.source}:{definition.query}")
    if outcome.changed:
        _run_reports(store, outcome, options, progress)
    failed = [r for r in outcome.reports if r.status == FAILED]
    store.sources.record_run(name, PARTIAL if failed else SUCCEEDED, result=outcome.summary())
    logger.info(
        "refresh %s: %d series fetched, %d changed, %d report run(s)",
        name,
        len(outcome.fetched),
        len(outcome.changed),
        len(outcome.reports),
    )
    return outcome


def _run_reports(store: Store, outcome: RefreshResult, options: ReportOptions, progress: ProgressTracker) -> None:
    """Run the reports that use a changed series of ``outcome`` (at the new vintages' time)."""
    as_of = _as_of_after([o.vintage.created_at for o in outcome.fetched if o.created])
    reports = reports_using(store, outcome.changed)
    progress.add_items(len(reports))
    for report in reports:
        with options.backend():  # on the Dask scheduler when one is set
            run = run_report(
                report,
                as_of,
                store,
                trigger="refresh",
                report_dir=options.report_dir,
                backtest_windows=options.backtest_windows,
                n_jobs=options.n_jobs,
                lease_seconds=options.lease_seconds,
                delivery=options.delivery,
            )
        outcome.reports.append(run)
        if run.status == FAILED:
            progress.item_failed(f"report {report}", "report_run_failed", run.error or "the report run failed")
        else:
            progress.item_done(f"report {report}")


class RefreshScheduler:
    """Cron firing of stored refreshes for one process (APScheduler 3, in-memory jobs).

    Parameters
    ----------
    store : data.Store
        The store holding the refreshes.
    options : ReportOptions, optional
        Sync interval, misfire grace and how triggered reports run.
    sources : SourceOptions, optional
        Connector timeout and credentials.
    clock : callable, optional
        Returns the current aware time; replaced in tests.
    run : callable, optional
        Runs a due refresh by name once its fire is claimed; by default here, in the scheduler's
        thread. The REST service passes one that queues a durable job (re-run by another
        instance if this one stops mid-way).
    """

    def __init__(
        self,
        store: Store,
        options: ReportOptions | None = None,
        sources: SourceOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        run: Callable[[str], object] | None = None,
    ) -> None:
        self.store = store
        self.run = run
        self.options = options or ReportOptions()
        self.sources = sources or SourceOptions()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._schedules: dict[str, tuple[str, str]] = {}
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        """Schedule every enabled refresh and re-read the definitions periodically."""
        if self._scheduler is not None:
            return
        scheduler = background_scheduler(self.options, workers=1)
        self._scheduler = scheduler
        # The first sync (and its catch-up fetches) runs at once in the scheduler's thread.
        scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.options.refresh_seconds, timezone=UTC),
            id=_SYNC_JOB,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        logger.info("refresh scheduler started with %d refresh(es)", len(self._schedules))

    def shutdown(self) -> None:
        """Stop firing (a running refresh finishes in its thread)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def sync(self) -> None:
        """Match the cron jobs to the stored, enabled refreshes, then run any missed fire once."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        try:
            wanted = {
                s.definition.name: (s.definition.schedule, s.definition.timezone)
                for s in self.store.sources.list_refreshes()
                if s.definition.enabled
            }
        except Exception:  # the database may be down for a while; try again next sync
            logger.exception("refresh scheduler: reading the refreshes failed")
            return
        with self._lock:
            sync_cron_jobs(scheduler, self._schedules, wanted, self.fire_due, prefix=_JOB_PREFIX, label="refresh")
        # Catch-up: a fire missed while no process was up runs once (claim_fire de-duplicates).
        for name in list(self._schedules):
            self.fire_due(name)

    def fire_due(self, name: str) -> RefreshResult | None:
        """Run refresh ``name`` for its latest due fire unless a process already claimed it.

        Returns what the run did, or ``None`` when nothing was due or the run was handed to
        ``run`` (a job).
        """
        try:
            stored = self.store.sources.get_refresh(name)
            definition = stored.definition
            trigger = stored_trigger(name, definition.schedule, definition.timezone)
            fire = previous_fire_time(trigger, self.clock()) if trigger is not None else None
            # Fires before the definition was stored or last changed are not due.
            if fire is None or fire <= stored.updated_at or not self.store.sources.claim_fire(name, fire):
                return None
            if self.run is not None:
                self.run(name)
                return None
            return run_refresh(name, self.store, options=self.options, sources=self.sources)
        except Exception:  # never let one refresh stop the scheduler; the failure is recorded
            logger.exception("refresh %s: scheduled run failed", name)
            return None


def start_refresh_scheduler(
    store: Store,
    options: ReportOptions | None = None,
    sources: SourceOptions | None = None,
    run: Callable[[str], object] | None = None,
) -> RefreshScheduler | None:
    """Start a refresh scheduler unless ``options.scheduler_enabled`` is false (``run``: as
    :class:`RefreshScheduler`)."""
    options = options or ReportOptions()
    if not options.scheduler_enabled:
        return None
    scheduler = RefreshScheduler(store, options, sources, run=run)
    scheduler.start()
    return scheduler
