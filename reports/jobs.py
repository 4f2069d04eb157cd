"""Report jobs: read the series from the store, forecast, render, archive, record the run.

:func:`run_report` is what the scheduler, the CLI and the API call. It is idempotent on
``(name, as_of)``: the run key is claimed in the database before any work, so a second
call for the same report and as-of time returns the stored run instead of running again
(``force=True`` redoes a finished run in place; a failed run is retried).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
import traceback as tb
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from data import Store
from data.archive import ForecastArchive
from data.exceptions import DataError, SeriesNotFoundError, VintageNotFoundError
from data.leases import Lease, LeaseKeeper
from data.meta import ForecastRecord, StoredSeries
from data.params import ForecastParams, ReportRef
from data.progress_repo import REPORT_RUN, ProgressTracker
from data.series_repo import SeriesRepository
from forecasting.exceptions import ForecastingError, InvalidDriversError, WorkerLostError
from forecasting.executor import TaskResult, get_executor
from forecasting.frames import DS, MODEL
from reports.coherence import align_with_structures
from reports.content import ISSUED_AT, ReportData, SeriesSection, build_report, compute_section, failed_section
from reports.definitions import ReportDefinition
from reports.delivery import DeliveryOptions
from reports.dispatch import DeliveryDispatcher, open_deliveries, settle_deliveries
from reports.driven import compute_driven_section
from reports.driver_options import driver_spec
from reports.exceptions import NoSeriesForecastError, RenderFailedError, RenderUnavailableError
from reports.pdf import html_to_pdf
from reports.render import render_html
from reports.store import (
    FAILED,
    LEASE_SECONDS,
    PARTIAL,
    PRODUCED,
    RUNNING,
    STALE_AFTER_SECONDS,
    SUCCEEDED,
    ReportRun,
    ReportStore,
    normalize_as_of,
    run_key,
)
from reports.structures import StructureSection, read_structure, structure_section
from reports.wording import explain_error
from reports.xlsx import render_xlsx

__all__ = [
    "claim_report_run",
    "collect_report",
    "execute_run",
    "resolve_as_of",
    "resolve_series_ids",
    "run_report",
]

logger = logging.getLogger(__name__)

#: Progress of a report collected outside a run (previews, tests): recorded nowhere.
_NO_PROGRESS = ProgressTracker(None, REPORT_RUN, "")

#: Rows of "how did we do" kept per series (newest issues first).
_MAX_PAST_ROWS = 24
_MAX_TRACEBACK_CHARS = 4000
_TAG_PAGE = 500


@dataclass
class _Collected:
    report: ReportData
    stored: dict[str, StoredSeries] = field(default_factory=dict)


def run_report(
    name: str,
    as_of: datetime | None,
    store: Store,
    *,
    trigger: str = "manual",
    force: bool = False,
    report_dir: Path | None = None,
    backtest_windows: int = 3,
    n_jobs: int = 1,
    stale_after_seconds: float = STALE_AFTER_SECONDS,
    lease_seconds: float = LEASE_SECONDS,
    delivery: DeliveryOptions | None = None,
) -> ReportRun:
    """Run report ``name`` with the data known at ``as_of`` and record the run.

    Parameters
    ----------
    name : str
        Report definition name.
    as_of : datetime or None
        Data cut-off (aware, or naive UTC); ``None`` means now. Series are read at the
        vintage current at ``as_of`` and cut to the periods that had ended by then.
    store : data.Store
        The series store (its database also holds the report tables).
    trigger : str
        Recorded with the run: ``schedule``, ``api``, ``cli`` or ``manual``.
    force : bool
        Redo a run that already succeeded for this ``(name, as_of)``.
    report_dir : Path or None
        Also write the HTML to ``<report_dir>/<name>/<as_of>_<run_id>.html``.
    backtest_windows : int
        Rolling-origin windows for the accuracy table.
    n_jobs : int
        Worker processes for forecasting the series (1: in this process).
    stale_after_seconds : float
        Runs still ``running`` this long after they started are first marked failed as
        interrupted (:meth:`ReportStore.fail_stale_runs`), so a crashed run can be redone.
    lease_seconds : float
        The run's lease, renewed while it works; a run found ``running`` with an expired
        lease was interrupted and is taken over and redone here.
    delivery : DeliveryOptions or None
        How a successful run is sent to the definition's ``delivery`` target (SMTP relay,
        webhook secret, retries); ``None`` sends nothing.

    Returns
    -------
    ReportRun
        The recorded run (``status`` is ``succeeded`` or ``failed``; ``running`` if
        another process is producing this very run right now).

    Raises
    ------
    ReportNotFoundError
        If no report is named ``name``.
    """
    run, definition, claimed = claim_report_run(
        name,
        as_of,
        store,
        trigger=trigger,
        force=force,
        stale_after_seconds=stale_after_seconds,
        lease_seconds=lease_seconds,
    )
    if not claimed:
        return run
    return execute_run(
        run,
        definition,
        store,
        ReportStore.for_store(store),
        report_dir=report_dir,
        backtest_windows=backtest_windows,
        n_jobs=n_jobs,
        lease_seconds=lease_seconds,
        delivery=delivery,
    )


def claim_report_run(
    name: str,
    as_of: datetime | None,
    store: Store,
    *,
    trigger: str = "manual",
    force: bool = False,
    stale_after_seconds: float = STALE_AFTER_SECONDS,
    lease_seconds: float = LEASE_SECONDS,
) -> tuple[ReportRun, ReportDefinition, bool]:
    """Claim the run of ``name`` at ``as_of`` (leased) without producing it.

    Returns ``(run, definition, claimed)``: with ``claimed`` true the caller must produce
    the run (:func:`execute_run`, at once or on a background worker: should its process
    die, the expired lease gets the run redone); otherwise ``run`` is the stored run (done,
    or running in another process). Arguments are those of :func:`run_report`.

    Raises
    ------
    ReportNotFoundError
        If no report is named ``name``.
    """
    reports = ReportStore.for_store(store)
    definition = reports.get_definition(name).definition
    as_of = resolve_as_of(as_of)
    key = run_key(name, as_of)
    reports.fail_stale_runs(stale_after_seconds)
    run = reports.claim_run(name, as_of, trigger=trigger, lease_seconds=lease_seconds)
    if run is None:
        existing = reports.get_run_by_key(key)
        if existing is not None and existing.status == RUNNING:
            run = reports.take_over_expired_run(key, trigger=trigger, lease_seconds=lease_seconds)
            if run is None:
                logger.info("report %s: run %s at %s is already running", name, existing.run_id, as_of)
                return existing, definition, False
    if run is None:
        if existing is not None and existing.status in PRODUCED and not force:
            logger.info("report %s: run %s at %s exists; returning it", name, existing.run_id, as_of)
            return existing, definition, False
        statuses = (FAILED, *PRODUCED) if force else (FAILED,)
        run = reports.reclaim_run(key, trigger=trigger, statuses=statuses, lease_seconds=lease_seconds)
        if run is None:  # someone else redid it between our two reads
            found = reports.get_run_by_key(key)
            assert found is not None  # the key exists: our claim failed on it
            return found, definition, False
    return run, definition, True


def resolve_as_of(as_of: datetime | None) -> datetime:
    """The as-of time a run of ``as_of`` gets: now if ``None``, in UTC, to the second."""
    return normalize_as_of(as_of or datetime.now(UTC)).replace(microsecond=0)


def execute_run(
    run: ReportRun,
    definition: ReportDefinition,
    store: Store,
    reports: ReportStore,
    *,
    report_dir: Path | None = None,
    backtest_windows: int = 3,
    n_jobs: int = 1,
    lease_seconds: float = LEASE_SECONDS,
    delivery: DeliveryOptions | None = None,
    dispatcher: DeliveryDispatcher | None = None,
) -> ReportRun:
    """Produce a claimed run and record its outcome; failures are recorded, not raised.

    The run's lease is renewed every third of ``lease_seconds`` while it works, so that
    other processes can tell it from a run whose process died. With ``delivery`` and a
    definition that has a target, each channel is logged ``pending`` first; a successful
    run is then sent and each outcome recorded, a failed one's deliveries are ``skipped``.
    With a ``dispatcher`` the sending happens on its threads and this returns at once
    (the log shows the deliveries ``pending`` until then); without, in this thread.
    """
    log_ids = open_deliveries(run, definition, store, delivery)
    with _lease_kept(reports, run.run_id, lease_seconds):
        finished = _produce_run(
            run, definition, store, reports, report_dir=report_dir, backtest_windows=backtest_windows, n_jobs=n_jobs
        )
    if log_ids and delivery is not None:
        options = delivery
        if dispatcher is None:
            settle_deliveries(finished, definition, store, options, log_ids)
        else:
            dispatcher.submit(lambda: settle_deliveries(finished, definition, store, options, log_ids))
    return finished


def _lease_kept(reports: ReportStore, run_id: str, lease_seconds: float) -> LeaseKeeper:
    """Renew the run's lease in a background thread for as long as the ``with`` block runs."""
    return LeaseKeeper(
        lambda: reports.renew_lease(run_id, lease_seconds),
        Lease(lease_seconds).renew_every,
        name=f"report-lease-{run_id[:8]}",
    )


def _log_failed_run(name: str, run_id: str, exc: Exception) -> None:
    """Log a failed run: one line when no series could be forecast, else with the traceback."""
    if isinstance(exc, NoSeriesForecastError):
        # The data could not be forecast: the message says why and how to fix it; a traceback
        # would only bury it (on a terminal running `tradecast report run`, in the log).
        logger.warning("report %s: run %s failed: %s", name, run_id, exc)
    else:
        logger.exception("report %s: run %s failed", name, run_id)


def _produce_run(
    run: ReportRun,
    definition: ReportDefinition,
    store: Store,
    reports: ReportStore,
    *,
    report_dir: Path | None,
    backtest_windows: int,
    n_jobs: int,
) -> ReportRun:
    started = time.perf_counter()
    logger.info("report %s: run %s started (as of %s, %s)", run.report_name, run.run_id, run.as_of, run.trigger)
    progress = ProgressTracker(getattr(store, "progress", None), REPORT_RUN, run.run_id)
    try:
        collected = collect_report(
            definition, store, run.as_of, backtest_windows=backtest_windows, n_jobs=n_jobs, progress=progress
        )
        collected_at = time.perf_counter()
        report = collected.report
        if report.sections and report.n_failed == len(report.sections):
            errors = "; ".join(f"{s.series_id}: {s.error}" for s in report.sections)
            raise NoSeriesForecastError(f"no series of report {definition.name!r} could be forecast ({errors})")
        html = render_html(report)
        details = _run_details(collected, _archive_forecasts(definition, store, run, collected))
        # Where the time went: reading + forecasting + backtesting, then charts + HTML.
        details["timings"] = {
            "collect_s": round(collected_at - started, 3),
            "render_s": round(time.perf_counter() - collected_at, 3),
        }
        if report_dir is not None:
            details["file"] = str(_write_html(Path(report_dir), run, html))
            details.update(_write_other_formats(Path(report_dir), run, definition, report, html))
        finished = reports.finish_run(
            run.run_id,
            # Series that could not be forecast are the run's outcome too: "succeeded" means all were.
            status=PARTIAL if report.n_failed else SUCCEEDED,
            html=html,
            n_series=len(report.sections),
            n_failed=report.n_failed,
            details=details,
        )
    except Exception as exc:  # a failed run is recorded and must not stop the scheduler
        _log_failed_run(run.report_name, run.run_id, exc)
        finished = reports.finish_run(
            run.run_id,
            status=FAILED,
            error=_client_error(exc, run.run_id),
            traceback=_traceback_summary(exc),
        )
    logger.info(
        "report %s: run %s %s in %.2f s",
        run.report_name,
        run.run_id,
        finished.status,
        time.perf_counter() - started,
    )
    return finished


def _run_details(collected: _Collected, forecast_ids: dict[str, str]) -> dict[str, Any]:
    """The run's details: each series' vintage and error, and the archived forecasts' ids."""
    series = {
        s.series_id: {"vintage": s.vintage, "error": s.error or None, "code": s.error_code or None}
        for s in collected.report.sections
    }
    return {"series": series, "forecast_ids": forecast_ids}


def collect_report(
    definition: ReportDefinition,
    store: Store,
    as_of: datetime,
    *,
    backtest_windows: int = 3,
    n_jobs: int = 1,
    progress: ProgressTracker | None = None,
) -> _Collected:
    """Read every series of ``definition`` at ``as_of``, forecast them and build the report.

    With ``n_jobs > 1`` the series are forecast and backtested in that many worker
    processes (worth it for slow models such as ``auto``; each worker pays a few seconds
    of start-up). Reading and archiving stay in this process. Each series and structure
    is counted on ``progress`` as it ends.
    """
    as_of = normalize_as_of(as_of)
    stored_by_id: dict[str, StoredSeries] = {}
    slots: list[SeriesSection | None] = []
    tasks: list[tuple[int, str, pd.Series, dict[str, Any]]] = []
    driven: set[int] = set()
    series_ids = resolve_series_ids(definition, store.series)
    progress = progress or _NO_PROGRESS
    progress.begin(len(series_ids) + len(definition.structures))
    for series_id in series_ids:
        try:
            stored, vintage_note = _read_at(store.series, series_id, as_of)
        except (DataError, ForecastingError) as exc:
            code = str(getattr(exc, "code", ""))
            slots.append(failed_section(series_id, f"{type(exc).__name__}: {exc}", model=definition.model, code=code))
            progress.item_done(series_id, exc)
            continue
        options = definition.series_options.get(series_id, {})
        kwargs: dict[str, Any] = {
            "horizon": definition.horizon,
            "levels": definition.levels,
            "model": options.get("model", definition.model),
            "kind": options.get("kind", stored.meta.kind),
            "missing": options.get("missing", "error"),
            "check_breaks": options.get("check_breaks") == "true",
            "transform": options.get("transform", "none"),
            "source": stored.meta.tags.get("source", ""),
            "backtest_windows": backtest_windows,
            "title": stored.meta.name,
            "unit": stored.meta.unit,
            "vintage": _describe_vintage(stored) + vintage_note,
            "archived": _archived_frame(store.archive, definition.name, series_id, as_of),
        }
        try:
            if _with_drivers(store, series_id, options, as_of, kwargs):
                driven.add(len(slots))
        except (DataError, ForecastingError) as exc:
            code = str(getattr(exc, "code", ""))
            error = f"{type(exc).__name__}: {exc}"
            slots.append(failed_section(series_id, error, model=kwargs["model"], code=code, title=stored.meta.name))
            progress.item_done(series_id, exc)
            continue
        tasks.append((len(slots), series_id, _cut_at(stored.series, as_of), kwargs))
        slots.append(None)
        stored_by_id[series_id] = stored
    for position, section in _compute_sections(tasks, n_jobs, driven=driven, progress=progress):
        slots[position] = section
    structures = [_counted(_structure(definition, store, name, as_of), progress) for name in definition.structures]
    report = _build(definition, [s for s in slots if s is not None], structures, as_of)
    return _Collected(report=report, stored=stored_by_id)


def _build(
    definition: ReportDefinition, sections: list[SeriesSection], structures: list[StructureSection], as_of: datetime
) -> ReportData:
    """The report of ``definition`` from its sections, aligned with its structures."""
    return build_report(
        name=definition.name,
        title=definition.title,
        description=definition.description,
        sections=align_with_structures(sections, structures),
        as_of=as_of,
        generated_at=datetime.now(UTC),
        horizon=definition.horizon,
        levels=definition.levels,
        model=definition.model,
        structures=structures,
    )


def _structure(definition: ReportDefinition, store: Store, name: str, as_of: datetime) -> StructureSection:
    """The coherent section of the stored structure ``name`` (or one explaining why there is none)."""

    def read(series_id: str) -> tuple[pd.Series, str, str]:
        stored, _note = _read_at(store.series, series_id, as_of)
        return _cut_at(stored.series, as_of), stored.meta.name, stored.meta.unit

    try:
        structure, frame, labels, unit = read_structure(store, name, read)
    except (DataError, ForecastingError) as exc:
        code = str(getattr(exc, "code", ""))
        error = f"{type(exc).__name__}: {exc}"
        return StructureSection(
            name, name, "", error=error, error_code=code, explanation=explain_error(code, error, structure=True)
        )
    return structure_section(
        structure, frame, horizon=definition.horizon, levels=definition.levels, labels=labels, unit=unit
    )


def _with_drivers(
    store: Store, series_id: str, options: dict[str, Any], as_of: datetime, kwargs: dict[str, Any]
) -> bool:
    """Whether the series has drivers, events or scenarios: then their stored series are read at
    ``as_of`` into ``kwargs`` and :func:`reports.driven.compute_driven_section` makes its section.

    A driver is read at the vintage current at ``as_of`` and kept whole (a stored assumed path
    over the horizon is what the forecast needs); only when it was stored after ``as_of`` (a
    back-filled run) is it cut at ``as_of`` like the series, so that no later actual leaks in.
    """
    spec = driver_spec(series_id, options)
    if spec is None:
        return False

    def read(sid: str) -> pd.Series:
        try:
            stored, note = _read_at(store.series, sid, as_of)
        except SeriesNotFoundError as exc:  # deleted since the definition was made
            raise InvalidDriversError(
                f"the driver or scenario series {sid!r} of series {series_id!r} is no longer stored; load it again "
                "or remove it from the report's series_options."
            ) from exc
        return _cut_at(stored.series, as_of) if note else stored.series

    kwargs.update(
        drivers={name: read(sid) for name, sid in spec.drivers.items()},
        driver_ids=dict(spec.drivers),
        events=spec.events or None,
        scenarios={name: {d: read(sid) for d, sid in path.items()} for name, path in spec.scenarios.items()},
        driver_uncertainty=spec.driver_uncertainty,
    )
    return True


def _compute_sections(
    tasks: list[tuple[int, str, pd.Series, dict[str, Any]]],
    n_jobs: int,
    *,
    driven: AbstractSet[int] = frozenset(),
    progress: ProgressTracker = _NO_PROGRESS,
) -> list[tuple[int, SeriesSection]]:
    """Forecast and backtest every series on the executor (``n_jobs`` processes); the tasks at
    positions in ``driven`` by :func:`~reports.driven.compute_driven_section`.

    Each series is counted on ``progress`` as it ends. The series whose worker process died
    under them are forecast once more (on a new pool); lost again, their section fails.
    """
    out: dict[int, SeriesSection] = {}
    calls = {
        pos: functools.partial(compute_driven_section if pos in driven else compute_section, sid, y, **kw)
        for pos, sid, y, kw in tasks
    }
    named = {pos: (sid, str(kw.get("model", ""))) for pos, sid, _, kw in tasks}
    # "spawn": the caller may be a threaded server or scheduler, where fork is unsafe.
    with get_executor(max(n_jobs, 1), n_tasks=len(tasks), spawn=True) as executor:
        for attempt in (1, 2):
            todo = [pos for pos in calls if pos not in out]
            for pos, result in executor.stream((pos, calls[pos]) for pos in todo):
                series_id, model = named[pos]
                if isinstance(result.error, WorkerLostError) and attempt == 1:
                    logger.warning("series %s: its worker process died; forecasting it once more", series_id)
                    progress.item_retried(series_id)
                    continue
                out[pos] = _section_of(result, series_id, model)
                if out[pos].error:
                    progress.item_failed(series_id, out[pos].error_code, out[pos].error)
                else:
                    progress.item_done(series_id)
    return sorted(out.items())


def _section_of(result: TaskResult[SeriesSection], series_id: str, model: str) -> SeriesSection:
    """The section a task gave; an unexpected failure (or a dead worker) sinks this series only."""
    if result.ok:
        return result.unwrap()
    logger.error("series %s: no section (%r)", series_id, result.error)
    error = f"{type(result.error).__name__}: {result.error}"
    return failed_section(series_id, error, model=model, code=str(getattr(result.error, "code", "")))


def _counted(section: StructureSection, progress: ProgressTracker) -> StructureSection:
    """``section``, counted on ``progress`` (failed when it has an error)."""
    if section.error:
        progress.item_failed(f"structure {section.name}", section.error_code, section.error)
    else:
        progress.item_done(f"structure {section.name}")
    return section


def resolve_series_ids(definition: ReportDefinition, series: SeriesRepository) -> list[str]:
    """``definition.series_ids`` then, if tags are given, every series carrying them (by id,
    from ``series``, the store's :class:`~data.series_repo.SeriesRepository`)."""
    ids = list(definition.series_ids)
    if definition.tags:
        offset = 0
        while True:
            page, total = series.list_series(tags=dict(definition.tags), limit=_TAG_PAGE, offset=offset)
            ids.extend(m.series_id for m in page)
            offset += len(page)
            if not page or offset >= total:
                break
    return list(dict.fromkeys(ids))


def _read_at(series: SeriesRepository, series_id: str, as_of: datetime) -> tuple[StoredSeries, str]:
    """The vintage of ``series_id`` current at ``as_of``; a whole-second as-of time (a run made
    "now" is keyed to its second) reads through the end of that second, so that a series stored
    in the same second as the run, just before it, is read as stored (not as stored after it)."""
    read_at = as_of + timedelta(microseconds=999_999) if as_of.microsecond == 0 else as_of
    try:
        return series.read_series(series_id, as_of=read_at), ""
    except VintageNotFoundError:
        # Back-filled runs (as-of before the data was loaded): use the first vintage stored,
        # cut at as-of below, and say so in the report.
        first = series.list_vintages(series_id)[0]
        return (
            series.read_series(series_id, vintage_id=first.vintage_id),
            " (stored after the as-of time; periods ending after it are left out)",
        )


def _cut_at(y: pd.Series, as_of: datetime) -> pd.Series:
    """Keep the periods that had ended by ``as_of`` (a later period cannot be known then)."""
    if not isinstance(y.index, pd.PeriodIndex) or y.empty:
        return y
    limit = pd.Timestamp(as_of.astimezone(UTC).replace(tzinfo=None))
    ended = y.index.end_time < limit
    out = y[ended]
    # Trailing gaps carry no information and would fail the forecast's NaN check.
    last = out.last_valid_index()
    return out.loc[:last] if last is not None else out.iloc[:0]


def _describe_vintage(stored: StoredSeries) -> str:
    v = stored.vintage
    text = f"v{v.number} stored {v.created_at:%Y-%m-%d %H:%M} UTC"
    return f"{text}, release {v.release}" if v.release else text


def _archived_frame(archive: ForecastArchive, report_name: str, series_id: str, as_of: datetime) -> pd.DataFrame:
    """This report's earlier forecasts of ``series_id`` issued before ``as_of``.

    One forecast per data vintage is kept (re-runs on unchanged data repeat themselves),
    the earliest issue of each; rows are flattened to the content module's archive frame.
    """
    parts: list[pd.DataFrame] = []
    seen_vintages: set[Any] = set()
    records = [r for r in archive.list_forecasts(series_id) if r.params.get("report") == report_name]
    issued: list[tuple[datetime, ForecastRecord]] = []
    for record in records:
        when = _issued_at(record)
        if when is not None and when < as_of:
            issued.append((when, record))
    for when, record in sorted(issued, key=lambda p: p[0]):
        if record.vintage_id in seen_vintages:
            continue
        seen_vintages.add(record.vintage_id)
        frame = record.frame.reset_index()
        if DS not in frame.columns:
            frame = frame.rename(columns={frame.columns[0]: DS})
        frame.insert(0, ISSUED_AT, when)
        frame.insert(1, MODEL, record.model)
        parts.append(frame)
    if not parts:
        return pd.DataFrame()
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(ISSUED_AT, ascending=False).head(_MAX_PAST_ROWS * 4)


def _issued_at(record: ForecastRecord) -> datetime | None:
    text = record.params.get("as_of")
    if not isinstance(text, str):
        return None
    try:
        return normalize_as_of(datetime.fromisoformat(text))
    except ValueError:
        return None


def _archive_forecasts(
    definition: ReportDefinition, store: Store, run: ReportRun, collected: _Collected
) -> dict[str, str]:
    """Archive each series' forecast so later runs can score it; returns series → forecast id."""
    ids: dict[str, str] = {}
    for section in collected.report.sections:
        stored = collected.stored.get(section.series_id)
        if not section.ok or stored is None:
            continue
        frame = _section_frame(section, stored.series.index)
        record = ForecastRecord(
            series_id=section.series_id,
            vintage_id=stored.vintage.vintage_id,
            model=section.model,  # the model fitted for this series, not the report's default
            params=archive_params(definition, run, stored, section).to_params(),
            horizon=definition.horizon,
            levels=tuple(definition.levels),
            frame=frame,
        )
        ids[section.series_id] = store.archive.save_forecast(record)
    return ids


def archive_params(
    definition: ReportDefinition, run: ReportRun, stored: StoredSeries, section: SeriesSection
) -> ForecastParams:
    """What the archive keeps with a report's forecast: the record a REST forecast keeps, plus the run."""
    fitted = section.params or ForecastParams(frequency="", kind=section.kind)
    return dataclasses.replace(
        fitted,
        frequency=stored.meta.frequency,
        kind=section.kind or stored.meta.kind,
        vintage=stored.vintage,
        report=ReportRef(definition.name, run.run_id, run.as_of),
    )


def _section_frame(section: SeriesSection, index: pd.Index) -> pd.DataFrame:
    from forecasting.frames import MEAN, hi_col, lo_col

    freq = getattr(index, "freq", None)
    ds = pd.PeriodIndex([pd.Period(r.period, freq=freq) for r in section.forecasts], name=DS)
    data: dict[str, list[float]] = {MEAN: [r.mean for r in section.forecasts]}
    for level in sorted(section.forecasts[0].bounds if section.forecasts else {}):
        data[lo_col(level)] = [r.bounds[level][0] for r in section.forecasts]
        data[hi_col(level)] = [r.bounds[level][1] for r in section.forecasts]
    return pd.DataFrame(data, index=ds)


def _write_html(report_dir: Path, run: ReportRun, html: str) -> Path:
    folder = report_dir / run.report_name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.as_of:%Y%m%dT%H%M%SZ}_{run.run_id}.html"
    path.write_text(html, encoding="utf-8")
    return path


def _client_error(exc: Exception, run_id: str) -> str:
    """The error a client may read: our own errors' messages; anything else only points to the log."""
    if isinstance(exc, ForecastingError | DataError):
        return str(exc)[:2000]
    return f"the run failed unexpectedly; the server log has the details (run {run_id})"


def _write_other_formats(
    report_dir: Path, run: ReportRun, definition: ReportDefinition, report: ReportData, html: str
) -> dict[str, Any]:
    """Write the PDF and Excel files the definition asks for, next to the HTML.

    A format that cannot be made (no Chromium) is noted in the run's details; the run, whose
    HTML is stored, still succeeds.
    """
    files: dict[str, str] = {}
    errors: dict[str, str] = {}
    stem = report_dir / run.report_name / f"{run.as_of:%Y%m%dT%H%M%SZ}_{run.run_id}"
    for fmt in definition.formats:
        if fmt == "html":
            continue
        try:
            data = html_to_pdf(html) if fmt == "pdf" else render_xlsx(report)
        except (RenderUnavailableError, RenderFailedError) as exc:
            logger.warning("report %s: run %s: no %s (%s)", run.report_name, run.run_id, fmt, exc)
            errors[fmt] = str(exc)
            continue
        path = stem.with_suffix(f".{fmt}")
        path.write_bytes(data)
        files[fmt] = str(path)
    out: dict[str, Any] = {"files": files} if files else {}
    return {**out, "format_errors": errors} if errors else out


def _traceback_summary(exc: BaseException) -> str:
    text = "".join(tb.format_exception(exc, limit=-8))
    return text[-_MAX_TRACEBACK_CHARS:]
