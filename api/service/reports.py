"""Report use cases shared by REST and the command line: definitions, runs, run records.

Both surfaces call these functions, so a definition is checked the same way wherever it is
made: its fields (:func:`reports.definitions.check_definition`: cron, time zone, model...),
then against the store (every named series exists) and the settings (a delivery channel
that the service cannot use is refused now, not at run time).

The HTTP routes reach the report package only through this module: run records (with the
run's progress from :mod:`data.progress_repo` and links to its files), the HTML, PDF and
workbook of a run, and the schedule of a definition.

REST runs a report as a durable job: :func:`start_report_run` claims the run row (leased,
see :mod:`reports.store`) in the request and hands the work to a :class:`ReportRunner`
thread; the client polls the run record. Should the process die, the lease expires and the
run is redone (by the scheduler's refresh, or the next runner start). The command line runs
in its own process and waits (:func:`run_report_now`).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from data import Store
from data.leases import Lease, LeaseKeeper
from data.progress_repo import REPORT_RUN, Progress
from reports.definitions import ReportDefinition
from reports.delivery import DeliveryOptions, check_webhook_target
from reports.delivery_log import DeliveryLog, DeliveryRecord
from reports.dispatch import DeliveryDispatcher
from reports.driver_options import driver_spec
from reports.exceptions import RunFileNotFoundError, UnknownReportSeriesError
from reports.jobs import claim_report_run, execute_run, resolve_as_of, run_report
from reports.options import ReportOptions
from reports.pdf import html_to_pdf
from reports.scheduler import previous_fire_time, stored_trigger
from reports.store import PRODUCED, RUNNING, ReportRun, ReportStore, StoredDefinition, run_key

__all__ = [
    "ReportRun",
    "ReportRunner",
    "RunFile",
    "RunRecord",
    "StoredDefinition",
    "check_against_service",
    "create_report",
    "delete_report",
    "list_reports",
    "list_run_records",
    "read_report",
    "read_run_file",
    "read_run_html",
    "read_run_record",
    "read_running_progress",
    "report_schedule",
    "run_report_now",
    "start_report_run",
    "update_report",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRecord:
    """A run with its delivery log, its progress (once it started its series) and its files.

    ``files`` names the formats that can be downloaded: ``html`` and ``pdf`` once the run
    produced its report, ``xlsx`` when the workbook was written (the definition's formats).
    """

    run: ReportRun
    deliveries: list[DeliveryRecord]
    progress: Progress | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunFile:
    """A file of a run, ready to send: its bytes, media type and file name."""

    data: bytes
    media_type: str
    filename: str


RunFormat = Literal["pdf", "xlsx"]
_MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _record(run: ReportRun, deliveries: list[DeliveryRecord], progress: Progress | None) -> RunRecord:
    files: tuple[str, ...] = ()
    if run.status in PRODUCED:
        written = (run.details or {}).get("files", {})
        files = ("html", "pdf", *(("xlsx",) if "xlsx" in written else ()))
    return RunRecord(run, deliveries, progress, files)


def check_against_service(definition: ReportDefinition, store: Store, delivery: DeliveryOptions) -> None:
    """Refuse a definition naming series the store lacks, or a delivery channel not configured.

    Raises
    ------
    UnknownReportSeriesError
        Listing the series ids not in the store.
    InvalidParameterError
        When ``delivery`` asks for e-mail without an SMTP host, or a webhook without a secret.
    WebhookAddressError
        When the webhook's host is internal and not in ``delivery.webhook_allow``.
    """
    from forecasting.exceptions import InvalidParameterError

    missing = [s for s in definition.series_ids if not store.series.has_series(s)]
    if missing:
        raise UnknownReportSeriesError(
            f"report {definition.name!r} names series not in the store: {', '.join(missing)}; load them first "
            "(POST /v1/series or `tradecast load`) or see the stored ones (GET /v1/series).",
            details={"field": "series_ids", "unknown": missing},
        )
    for series_id, options in definition.series_options.items():
        spec = driver_spec(series_id, options)
        absent = [s for s in (spec.series_ids if spec is not None else []) if not store.series.has_series(s)]
        if absent:
            raise UnknownReportSeriesError(
                f"report {definition.name!r}: series_options[{series_id!r}] names driver or scenario series not in "
                f"the store: {', '.join(absent)}; load them first (POST /v1/series).",
                details={"field": f"series_options.{series_id}", "unknown": absent},
            )
    target = definition.delivery
    if target is not None and target.emails and not delivery.smtp_host:
        raise InvalidParameterError(
            "delivery.emails is set but e-mail is not configured on this service: set TRADECAST_SMTP_HOST."
        )
    if target is not None and target.webhook_url and not delivery.webhook_secret.get_secret_value():
        raise InvalidParameterError(
            "delivery.webhook_url is set but webhooks are not configured on this service: set "
            "TRADECAST_WEBHOOK_SECRET (webhook bodies are always signed)."
        )
    if target is not None:
        check_webhook_target(target, delivery.webhook_allow)


def create_report(
    store: Store, data: dict[str, Any], delivery: DeliveryOptions, *, seconds: bool = False
) -> StoredDefinition:
    """Check ``data`` (a definition as a mapping) and store it as a new report.

    ``seconds`` accepts six-field cron schedules (``TRADECAST_SCHEDULE_SECONDS``, tests only).
    """
    definition = ReportDefinition.from_dict(data, seconds=seconds)
    check_against_service(definition, store, delivery)
    return ReportStore.for_store(store).create_definition(definition)


def update_report(
    store: Store, data: dict[str, Any], delivery: DeliveryOptions, *, seconds: bool = False
) -> StoredDefinition:
    """Check ``data`` and replace the stored definition of the report it names (404 first)."""
    reports = ReportStore.for_store(store)
    definition = ReportDefinition.from_dict(data, seconds=seconds)
    reports.get_definition(definition.name)
    check_against_service(definition, store, delivery)
    return reports.update_definition(definition)


def list_reports(store: Store) -> list[StoredDefinition]:
    """Every report definition, by name."""
    return ReportStore.for_store(store).list_definitions()


def read_report(store: Store, name: str) -> StoredDefinition:
    """One report definition (``ReportNotFoundError`` if none)."""
    return ReportStore.for_store(store).get_definition(name)


def delete_report(store: Store, name: str) -> None:
    """Delete a report, its runs and their delivery log."""
    ReportStore.for_store(store).delete_definition(name)


def read_run_record(store: Store, name: str, run_id: str) -> RunRecord:
    """Run ``run_id`` of report ``name`` with its deliveries (``RunNotFoundError`` if none)."""
    run = ReportStore.for_store(store).get_run(name, run_id)
    progress = store.progress.get(REPORT_RUN, run.run_id)
    return _record(run, DeliveryLog.for_store(store).for_run(run.run_id), progress)


def list_run_records(store: Store, name: str, *, limit: int = 50, offset: int = 0) -> tuple[list[RunRecord], int]:
    """One page of the runs of report ``name`` with their deliveries, newest first, and the total."""
    reports = ReportStore.for_store(store)
    reports.get_definition(name)
    runs, total = reports.list_runs(name, limit=limit, offset=offset)
    deliveries = DeliveryLog.for_store(store).for_runs([r.run_id for r in runs])
    progress = store.progress.get_many(REPORT_RUN, [r.run_id for r in runs])
    return [_record(r, deliveries.get(r.run_id, []), progress.get(r.run_id)) for r in runs], total


def report_schedule(stored: StoredDefinition, *, seconds: bool = False) -> tuple[datetime | None, datetime | None]:
    """The latest cron time at or before now and the next one, of a scheduled, enabled report."""
    d = stored.definition
    if not (d.schedule and d.enabled):
        return None, None
    trigger = stored_trigger(d.name, d.schedule, d.timezone, seconds=seconds)
    if trigger is None:
        return None, None
    now = datetime.now(stored.updated_at.tzinfo)
    return previous_fire_time(trigger, now), trigger.get_next_fire_time(None, now)


def _run_of(reports: ReportStore, name: str, run_id: str | None) -> ReportRun:
    """Run ``run_id`` of ``name``, or its latest produced run when ``run_id`` is ``None``."""
    if run_id is None:
        reports.get_definition(name)
        return reports.latest_run(name)
    return reports.get_run(name, run_id)


def read_run_html(store: Store, name: str, run_id: str | None = None) -> str:
    """The HTML of run ``run_id`` of report ``name`` (of its latest produced run if ``None``)."""
    reports = ReportStore.for_store(store)
    return reports.get_html(_run_of(reports, name, run_id).run_id)


def read_run_file(store: Store, name: str, run_id: str | None, fmt: RunFormat) -> RunFile:
    """The PDF or the workbook (XLSX) of a run (of the latest produced run if ``run_id`` is ``None``).

    The file the run wrote is sent when there is one; a PDF is otherwise rendered from the
    stored HTML (needs Chromium).

    Raises
    ------
    RunFileNotFoundError
        For a workbook the run did not write (add ``xlsx`` to the report's ``formats``).
    RenderUnavailableError
        For a PDF when Chromium is not installed.
    """
    reports = ReportStore.for_store(store)
    run = _run_of(reports, name, run_id)
    filename = f"{name}-{run.run_id}.{fmt}"
    written = (run.details or {}).get("files", {}).get(fmt)
    if written is not None and Path(written).is_file():
        return RunFile(Path(written).read_bytes(), _MEDIA_TYPES[fmt], filename)
    if fmt == "pdf":
        return RunFile(html_to_pdf(reports.get_html(run.run_id)), _MEDIA_TYPES[fmt], filename)
    raise RunFileNotFoundError(
        f"run {run.run_id} of report {name!r} has no workbook: add 'xlsx' to the report's formats "
        f"(PUT /v1/reports/{name}) and run it again.",
    )


def run_report_now(
    store: Store,
    name: str,
    as_of: datetime | None,
    options: ReportOptions,
    *,
    force: bool = False,
    trigger: str = "cli",
) -> RunRecord:
    """Run a report in this thread, deliver it, and return the record (the command line's way).

    Its series are forecast on the Dask scheduler of ``options`` when one is set."""
    with options.backend():
        run = run_report(
            name,
            as_of,
            store,
            trigger=trigger,
            force=force,
            report_dir=options.report_dir,
            backtest_windows=options.backtest_windows,
            n_jobs=options.n_jobs,
            stale_after_seconds=options.stale_after_seconds,
            lease_seconds=options.lease_seconds,
            delivery=options.delivery,
        )
    return read_run_record(store, name, run.run_id)


def read_running_progress(store: Store, name: str, as_of: datetime) -> Progress | None:
    """The progress of the run of ``name`` at ``as_of`` (``None`` before it starts its series).

    ``as_of`` is the time given to :func:`run_report_now` (a command line waiting for its
    run draws a progress bar from this while the run works in another thread).
    """
    run = ReportStore.for_store(store).get_run_by_key(run_key(name, resolve_as_of(as_of)))
    return None if run is None else store.progress.get(REPORT_RUN, run.run_id)


def start_report_run(
    runner: ReportRunner, name: str, as_of: datetime | None, *, force: bool = False, trigger: str = "api"
) -> tuple[RunRecord, bool]:
    """Claim a run and hand it to ``runner``; returns the record and whether it is in progress.

    When the run for ``(name, as_of)`` already exists it is returned as it is: in progress
    if another process is producing it, not if it has finished.
    """
    options = runner.options
    run, definition, claimed = claim_report_run(
        name,
        as_of,
        runner.store,
        trigger=trigger,
        force=force,
        stale_after_seconds=options.stale_after_seconds,
        lease_seconds=options.lease_seconds,
    )
    if claimed:
        runner.submit(run, definition)
    return read_run_record(runner.store, name, run.run_id), claimed or run.status == RUNNING


class ReportRunner:
    """Produces claimed report runs on a background thread, off the request threads.

    A run waiting in the queue keeps its lease (renewed every third of it), so no other
    process takes it over while it waits; one taken over anyway (this process stalled) is
    skipped rather than produced twice.

    Parameters
    ----------
    store : data.Store
        The series store (report tables live in its database).
    options : ReportOptions
        Report directory, backtest windows, worker processes, lease, delivery.
    workers : int
        Runs produced at the same time.
    """

    def __init__(self, store: Store, options: ReportOptions, *, workers: int = 1) -> None:
        self.store = store
        self.options = options
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tradecast-reports")
        # Deliveries leave the runner's thread: a receiver that never answers must not hold other runs.
        self.dispatcher = DeliveryDispatcher()
        self._lock = threading.Lock()
        self._pending: set[Future[ReportRun | None]] = set()
        self._queued: set[str] = set()
        # Runs waiting for a thread keep their leases too: queued is not interrupted.
        self._keeper = LeaseKeeper(
            self._renew_queued, Lease(options.lease_seconds).renew_every, name="tradecast-report-queue"
        ).start()

    def submit(self, run: ReportRun, definition: ReportDefinition) -> Future[ReportRun | None]:
        """Produce the claimed ``run`` in the background (its failures are recorded on the run)."""
        with self._lock:
            self._queued.add(run.run_id)
            future = self._pool.submit(self._produce, run, definition)
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[ReportRun | None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _renew_queued(self) -> None:
        reports = ReportStore.for_store(self.store)
        with self._lock:
            queued = list(self._queued)
        for run_id in queued:
            try:
                reports.renew_lease(run_id, self.options.lease_seconds)
            except Exception:  # the database may be down a moment; the next tick may succeed
                logger.warning("report run %s: renewing the lease of a queued run failed", run_id, exc_info=True)

    def _produce(self, run: ReportRun, definition: ReportDefinition) -> ReportRun | None:
        options = self.options
        reports = ReportStore.for_store(self.store)
        with self._lock:
            self._queued.discard(run.run_id)
        try:
            if not reports.renew_lease(run.run_id, options.lease_seconds):
                logger.info("report %s: run %s was taken over while queued; skipped", run.report_name, run.run_id)
                return None
            with options.backend():  # on the Dask scheduler when one is set
                return execute_run(
                    run,
                    definition,
                    self.store,
                    reports,
                    report_dir=options.report_dir,
                    backtest_windows=options.backtest_windows,
                    n_jobs=options.n_jobs,
                    lease_seconds=options.lease_seconds,
                    delivery=options.delivery,
                    dispatcher=self.dispatcher,
                )
        except Exception:  # a failure to record the run: the lease expires and the run is redone
            logger.exception("report %s: run %s could not be produced", run.report_name, run.run_id)
            return None

    def recover(self) -> list[str]:
        """Take over and redo runs whose lease expired (their process died); returns their ids."""
        reports = ReportStore.for_store(self.store)
        taken: list[str] = []
        for expired in reports.expired_runs():
            if not reports.has_definition(expired.report_name):
                continue
            run = reports.take_over_expired_run(
                expired.run_key, trigger=expired.trigger, lease_seconds=self.options.lease_seconds
            )
            if run is None:  # another process took it first
                continue
            logger.warning("report %s: redoing interrupted run %s", run.report_name, run.run_id)
            self.submit(run, reports.get_definition(run.report_name).definition)
            taken.append(run.run_id)
        return taken

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the runs submitted so far have finished (tests, orderly shutdown)."""
        from concurrent.futures import wait

        started = time.monotonic()
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        self.dispatcher.wait(left)

    def shutdown(self) -> None:
        """Stop taking runs; queued ones stay claimed and are redone once their lease expires."""
        self._keeper.stop(timeout=0)  # no wait: a renewal under way ends on its own
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.dispatcher.shutdown()
