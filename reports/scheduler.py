"""In-process scheduler: fires report runs at their cron times, exactly once per fire.

Each service process runs a :class:`ReportScheduler` (APScheduler 3 ``BackgroundScheduler``
with an in-memory job store, one cron job per enabled report definition read from the
database). Exactly-once across processes does not rely on APScheduler: before running,
a fire inserts its run row with the unique key ``(name, scheduled time)``
(:meth:`reports.store.ReportStore.claim_run`); the process whose insert commits runs the
report and every other process skips that fire.

Fires that fell due while no process was up are caught up at start (and at every
definition refresh): only the latest missed fire of each report runs, once (coalesced),
and only if it is later than the definition's last change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from data import Store
from forecasting.exceptions import InvalidParameterError
from reports.definitions import ReportDefinition, build_trigger
from reports.dispatch import DeliveryDispatcher
from reports.jobs import execute_run
from reports.options import ReportOptions
from reports.store import PRODUCED, ReportRun, ReportStore, run_key

__all__ = [
    "ReportScheduler",
    "SchedulerStats",
    "previous_fire_time",
    "start_scheduler",
    "stop_scheduler",
    "stored_trigger",
]

logger = logging.getLogger(__name__)

_JOB_PREFIX = "report:"
_SYNC_JOB = "reports-sync"
_MAX_LOOKBACK = timedelta(days=800)


def previous_fire_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The latest fire time of ``trigger`` at or before ``now`` (``None`` if none in ~2 years).

    Searches back in growing windows, then walks forward fire by fire, so it works for
    any cron expression APScheduler accepts.
    """
    span = timedelta(minutes=2)
    while span <= _MAX_LOOKBACK * 4:
        fire = trigger.get_next_fire_time(None, now - span)
        if fire is not None and fire <= now:
            while True:
                following = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
                if following is None or following > now:
                    found: datetime = fire.astimezone(UTC)
                    return found
                fire = following
        span *= 4
    return None


def stored_trigger(name: str, schedule: str, timezone: str, *, seconds: bool = False) -> BaseTrigger | None:
    """The trigger of a stored definition, or ``None`` (logged) if its schedule is now refused.

    Definitions stored before a rule was added (a schedule that never fires) must neither
    break the scheduler nor the listing of reports; they are simply not scheduled.
    """
    try:
        return build_trigger(schedule, timezone, seconds=seconds)
    except InvalidParameterError as exc:
        logger.warning("report %s: schedule %r not scheduled: %s", name, schedule, exc)
        return None


@dataclass
class SchedulerStats:
    """Counters of one scheduler instance (for tests and metrics)."""

    claimed: int = 0
    skipped: int = 0
    succeeded: int = 0
    failed: int = 0
    fires: list[datetime] = field(default_factory=list)


def background_scheduler(options: ReportOptions, *, workers: int) -> BackgroundScheduler:
    """An APScheduler in UTC with ``workers`` threads; a job's missed fires coalesce into one,
    never two at once, within ``options.misfire_grace_seconds``."""
    return BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": options.misfire_grace_seconds},
    )


def sync_cron_jobs(
    scheduler: BackgroundScheduler,
    schedules: dict[str, tuple[str, str]],
    wanted: Mapping[str, tuple[str | None, str]],
    fire: Callable[[str], object],
    *,
    prefix: str,
    label: str,
    seconds: bool = False,
) -> None:
    """Add, replace or remove the cron jobs of ``scheduler`` so that they match ``wanted``.

    ``schedules`` (name -> (cron, time zone)) is what is scheduled now and is updated in
    place; a job calls ``fire(name)``. A schedule that never fires is left out (logged by
    :func:`stored_trigger`).
    """
    for name in [n for n in schedules if n not in wanted]:
        scheduler.remove_job(prefix + name)
        del schedules[name]
    for name, (cron, timezone) in wanted.items():
        if cron is None or schedules.get(name) == (cron, timezone):
            continue
        trigger = stored_trigger(name, cron, timezone, seconds=seconds)
        if trigger is None:
            continue
        scheduler.add_job(fire, trigger, args=[name], id=prefix + name, name=f"{label} {name}", replace_existing=True)
        schedules[name] = (cron, timezone)


class ReportScheduler:
    """Cron scheduling of report runs for one process.

    Parameters
    ----------
    store : data.Store
        The series store; report definitions and runs live in its database.
    options : ReportOptions, optional
        Refresh interval, misfire grace, report directory, backtest windows (default:
        :class:`~reports.options.ReportOptions` defaults).
    clock : callable, optional
        Returns the current aware time; replaced in tests.
    """

    def __init__(
        self,
        store: Store,
        options: ReportOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.options = options or ReportOptions()
        # Deliveries on their own threads: a slow receiver never holds the scheduler's workers.
        self.dispatcher = DeliveryDispatcher()
        self.reports = ReportStore.for_store(store)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.stats = SchedulerStats()
        self._lock = threading.Lock()
        self._schedules: dict[str, tuple[str, str]] = {}
        self._scheduler: BackgroundScheduler | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`shutdown` was not."""
        return self._scheduler is not None and bool(self._scheduler.running)

    def start(self, *, catch_up: bool = True) -> None:
        """Schedule every enabled report and start firing (in background threads).

        With ``catch_up``, the latest missed fire of each report is run once, in the
        background, right after start.
        """
        if self.running:
            return
        scheduler = background_scheduler(self.options, workers=2)
        self._scheduler = scheduler
        self._schedules.clear()
        self.sync()
        scheduler.add_job(
            self._refresh,
            IntervalTrigger(seconds=self.options.refresh_seconds, timezone=UTC),
            id=_SYNC_JOB,
            # The first refresh runs at once (off the caller's thread) and, with catch_up, runs
            # the missed fires; None here would pause the job, not delay it.
            next_run_time=datetime.now(UTC),
            kwargs={"catch_up": catch_up},
        )
        scheduler.start()
        logger.info("report scheduler started with %d scheduled report(s)", len(self._schedules))

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop firing; with ``wait``, let running reports finish first."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
            logger.info("report scheduler stopped")
        if wait:
            self.dispatcher.wait()
        self._scheduler = None

    # -- definitions -> jobs ---------------------------------------------------------------

    def sync(self) -> None:
        """Add, replace or remove cron jobs to match the stored definitions."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        with self._lock:
            wanted = {
                stored.definition.name: (stored.definition.schedule, stored.definition.timezone)
                for stored in self.reports.list_definitions()
                if stored.definition.enabled and stored.definition.schedule
            }
            sync_cron_jobs(
                scheduler,
                self._schedules,
                wanted,
                self._fire_now,
                prefix=_JOB_PREFIX,
                label="report",
                seconds=self.options.second_schedules,
            )

    def _refresh(self, catch_up: bool = True) -> None:
        try:
            self.sync()
            self.reports.fail_stale_runs(self.options.stale_after_seconds)
            self.rerun_interrupted()
            if catch_up:
                self.catch_up()
        except Exception:  # the database may be down for a while; try again next refresh
            logger.exception("report scheduler: refresh failed")

    # -- firing ----------------------------------------------------------------------------

    def _fire_now(self, name: str) -> None:
        spec = self._schedules.get(name)
        if spec is None:
            return
        now = self.clock()
        trigger = stored_trigger(name, *spec, seconds=self.options.second_schedules)
        scheduled = previous_fire_time(trigger, now) if trigger is not None else None
        if scheduled is None:
            return
        try:
            self.fire(name, scheduled)
        except Exception:  # never let one report stop the scheduler
            logger.exception("report %s: scheduled fire at %s failed", name, scheduled)

    def fire(self, name: str, scheduled_for: datetime, *, trigger: str = "schedule") -> ReportRun | None:
        """Run report ``name`` for the fire at ``scheduled_for`` unless some process already did.

        Returns the finished run, or ``None`` when another process (or an earlier fire)
        claimed this key.
        """
        # Read first: a report deleted since it was scheduled must not leave a claimed run behind.
        definition = self.reports.get_definition(name).definition
        run = self.reports.claim_run(name, scheduled_for, trigger=trigger, lease_seconds=self.options.lease_seconds)
        with self._lock:
            self.stats.fires.append(scheduled_for)
            if run is None:
                self.stats.skipped += 1
            else:
                self.stats.claimed += 1
        if run is None:
            logger.info("report %s: fire at %s already claimed; skipping", name, scheduled_for)
            return None
        return self._execute(run, definition)

    def _execute(self, run: ReportRun, definition: ReportDefinition) -> ReportRun:
        with self.options.backend():
            finished = execute_run(
                run,
                definition,
                self.store,
                self.reports,
                report_dir=self.options.report_dir,
                backtest_windows=self.options.backtest_windows,
                n_jobs=self.options.n_jobs,
                lease_seconds=self.options.lease_seconds,
                delivery=self.options.delivery,
                dispatcher=self.dispatcher,
            )
        with self._lock:
            if finished.status in PRODUCED:
                self.stats.succeeded += 1
            else:
                self.stats.failed += 1
        return finished

    def rerun_interrupted(self, now: datetime | None = None) -> list[ReportRun]:
        """Re-run, once, every run whose lease expired (its process died mid-way).

        Each is taken over by a conditional UPDATE (:meth:`ReportStore.take_over_expired_run`),
        so with several schedulers on one database exactly one re-runs it.
        """
        done: list[ReportRun] = []
        for expired in self.reports.expired_runs(now=now):
            if not self.reports.has_definition(expired.report_name):
                continue
            run = self.reports.take_over_expired_run(
                expired.run_key, trigger=expired.trigger, lease_seconds=self.options.lease_seconds, now=now
            )
            if run is None:  # another process took it first
                continue
            try:
                definition = self.reports.get_definition(run.report_name).definition
                done.append(self._execute(run, definition))
            except Exception:  # never let one report stop the scheduler
                logger.exception("report %s: re-running interrupted run %s failed", run.report_name, run.run_id)
        return done

    def catch_up(self, now: datetime | None = None) -> list[ReportRun]:
        """Run, once, the latest fire of each report that no process has run yet.

        Fires at or before the definition's last change do not count as missed. Older
        missed fires are not run at all: they coalesce into the latest one.
        """
        now = now or self.clock()
        done: list[ReportRun] = []
        for stored in self.reports.list_definitions():
            definition = stored.definition
            if not (definition.enabled and definition.schedule):
                continue
            trigger = stored_trigger(
                definition.name, definition.schedule, definition.timezone, seconds=self.options.second_schedules
            )
            latest = previous_fire_time(trigger, now) if trigger is not None else None
            if latest is None or latest <= stored.updated_at:
                continue
            if self.reports.get_run_by_key(run_key(definition.name, latest)) is not None:
                continue
            logger.info("report %s: catching up the missed fire at %s", definition.name, latest)
            try:
                run = self.fire(definition.name, latest, trigger="schedule")
            except Exception:
                logger.exception("report %s: catch-up failed", definition.name)
                continue
            if run is not None:
                done.append(run)
        return done


def start_scheduler(store: Store, options: ReportOptions | None = None) -> ReportScheduler | None:
    """Start a scheduler for ``store`` unless ``options.scheduler_enabled`` is false.

    Used by the REST service at start-up; returns ``None`` when disabled.
    """
    options = options or ReportOptions()
    if not options.scheduler_enabled:
        logger.info("report scheduler disabled (TRADECAST_SCHEDULER_ENABLED=false)")
        return None
    scheduler = ReportScheduler(store, options)
    scheduler.start()
    return scheduler


def stop_scheduler(scheduler: ReportScheduler | None) -> None:
    """Stop ``scheduler`` if there is one, without waiting for a running report."""
    if scheduler is not None:
        scheduler.shutdown(wait=False)
