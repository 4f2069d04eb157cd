"""The forecast, batch and backtest use cases: limits, cache, fitting on the executor, archive.

Each use case runs in three steps, so that the REST routes can wait for a fit on the event
loop rather than in a threadpool thread: ``start_*`` (checks, cache, reading the series,
admission to the bounded fitting queue, submission), waiting for the future, and
``finish_*`` (archive, cache, scores). :meth:`ForecastService.forecast`,
:meth:`~ForecastService.forecast_batch` and :meth:`~ForecastService.backtest` chain the
three in the calling thread (command line, batch jobs, tests).

Fitting runs on the service's :class:`~forecasting.executor.Executor`: with worker
processes the request thread only waits, so neither the event loop nor the threadpool's
GIL is held by statsmodels, and each fit runs alone in its worker so warning capture
(process-wide before Python 3.14) records exactly that fit's warnings. In process, fits
are serialised for the same reason.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Hashable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from api.cache import ForecastKey, LRUCache, forecast_key
from api.metrics import Metrics
from api.service.admission import FitGate
from api.service.archive import archive_forecast
from api.service.drivers import check_stored_coverage, scenario_tables
from api.service.fitting import FitOutcome, fit_plan, import_models, warm_up
from api.service.limits import Limits, check_backtest, check_forecast, check_model_name
from api.service.sources import InlineParser, VintageMemory, prepare
from api.service.types import (
    BacktestRequest,
    BacktestResult,
    BatchItemResult,
    BatchRequest,
    ForecastRequest,
    ForecastResult,
    Prepared,
)
from api.service.warming import WarmUp
from data import SeriesNotFoundError, Store, VintageInfo
from data.progress_repo import ProgressTracker
from forecasting.core import best_models, score_backtest
from forecasting.exceptions import ForecastingError, InvalidParameterError, WorkerLostError
from forecasting.executor import Executor, TaskResult
from forecasting.fit import ForecastPlan, backtest_models, plan_forecast
from forecasting.outlook import outlook_horizon

__all__ = ["BacktestFit", "BatchFit", "BatchSettler", "ForecastFit", "ForecastService", "run_batch_fits"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Default bound on the fits queued or running (``TRADECAST_MAX_PENDING_FITS``).
DEFAULT_MAX_PENDING_FITS = 16


@dataclass(frozen=True)
class ForecastFit:
    """A forecast admitted and submitted: wait for ``future``, then :meth:`ForecastService.finish_forecast`."""

    request: ForecastRequest
    prepared: Prepared
    model: str
    levels: tuple[int, ...]
    future: Future[TaskResult[FitOutcome]]


@dataclass
class BatchFit:
    """A batch in flight: items already answered (cache, read errors) and the misses' futures."""

    request: BatchRequest
    model: str
    levels: tuple[int, ...]
    items: dict[int, BatchItemResult] = field(default_factory=dict)
    pending: dict[int, tuple[ForecastRequest, Prepared]] = field(default_factory=dict)
    futures: dict[int, Future[TaskResult[FitOutcome]]] = field(default_factory=dict)
    #: The misses' fits, ready to submit (again, when a worker died under one).
    tasks: dict[int, Callable[[], FitOutcome]] = field(default_factory=dict)


@dataclass(frozen=True)
class BacktestFit:
    """A backtest admitted and submitted: wait for ``future``, then :meth:`ForecastService.finish_backtest`."""

    request: BacktestRequest
    prepared: Prepared
    levels: tuple[int, ...]
    future: Future[TaskResult[pd.DataFrame]]


class ForecastService:
    """Fits, caches and archives forecasts for one app instance; knows nothing of HTTP.

    Parameters
    ----------
    limits : Limits
        What requests may ask for.
    metrics : Metrics
        Cache and fitting counters.
    executor : Executor
        Where fits run (owned: started and shut down with the service).
    parse : InlineParser
        Turns posted observations into a series.
    cache_size : int
        Forecasts kept in memory.
    vintage_ttl : float
        Seconds a stored series' vintage list is trusted without asking the store.
    max_pending_fits : int
        Most fits queued or running at once; beyond, a fit is refused with
        :class:`~api.service.admission.OverloadedError` (503, ``Retry-After``).
    warm : bool
        Warm each worker with small fits at start (:mod:`api.service.warming`); else only
        import the models.
    """

    def __init__(
        self,
        limits: Limits,
        metrics: Metrics,
        executor: Executor,
        parse: InlineParser,
        *,
        cache_size: int = 512,
        vintage_ttl: float = 0.0,
        max_pending_fits: int = DEFAULT_MAX_PENDING_FITS,
        warm: bool = True,
    ) -> None:
        self.limits = limits
        self.metrics = metrics
        self.executor = executor
        self.gate = FitGate(max_pending_fits, executor.n_workers)
        self.cache: LRUCache[ForecastResult] = LRUCache(cache_size)
        self.vintages = VintageMemory(vintage_ttl)
        self.warming = (
            WarmUp(executor, warm_up, what="importing the models and compiling their kernels with small fits of 'auto'")
            if warm
            else WarmUp(executor, import_models, what="importing the models (fit warm-up off: TRADECAST_WARM_UP=0)")
        )
        self._parse = parse

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start the workers, warmed up in the background (:attr:`warming` says when they are)."""
        self.executor.start(warm_up=self.warming.warm)
        self.warming.start()

    def shutdown(self) -> None:
        """Stop the workers: queued fits are cancelled, running ones finish."""
        self.executor.shutdown()

    def forget_vintages(self, series_id: str) -> None:
        """Drop the remembered vintage list of a series (after this process wrote to it)."""
        self.vintages.forget(series_id)

    # ---------------------------------------------------------------- cache
    def _checked(self, request: ForecastRequest | BatchRequest) -> tuple[str, tuple[int, ...]]:
        model = check_model_name(request.model or self.limits.default_model)
        return model, check_forecast(request.horizon, request.levels, self.limits)

    @staticmethod
    def _key(
        request: ForecastRequest,
        model: str,
        levels: tuple[int, ...],
        vintage: VintageInfo | None,
        driver_vintages: tuple[tuple[str, str, int], ...] = (),
    ) -> ForecastKey:
        source = request.source
        return forecast_key(
            series_id=source.series_id,
            vintage=vintage,
            data_hash=source.inline.digest if source.inline is not None else None,
            frequency=source.frequency,
            kind=source.kind,
            missing=source.missing,
            model=model,
            transform=request.transform,
            horizon=request.horizon,
            levels=levels,
            growth=request.growth,
            full_year=request.full_year,
            extras=_extras(request, driver_vintages),
        )

    def _hit(self, key: ForecastKey) -> ForecastResult | None:
        hit = self.cache.get(key)
        if hit is not None:
            self.metrics.cache_hits.inc()
        return hit

    def check_room(self, request: ForecastRequest) -> None:
        """Refuse ``request`` now (:class:`~api.service.admission.OverloadedError`) if it must
        be fitted and the fitting queue is full; call it when :meth:`cached_forecast` missed.

        Only inline data are refused here, on the event loop: their cache miss is certain.
        A stored series may still be a hit on the vintage the store holds, so its check
        waits for :meth:`start_forecast`'s lookup (still before its data are read).
        """
        if request.source.series_id is None:
            self.gate.check()

    def cached_forecast(self, request: ForecastRequest) -> ForecastResult | None:
        """The cached forecast for ``request`` from memory alone (no database, no fit), or None.

        Cheap enough to run on the event loop. For a stored series it relies on the vintage
        list remembered for ``vintage_ttl`` seconds.
        """
        model, levels = self._checked(request)
        vintage = None
        if request.source.series_id is not None:
            vintage = self.vintages.recall(request.source.series_id, request.source.as_of)
            if vintage is None:
                return None
        driver_vintages = []
        for name, series_id, as_of in _stored_drivers(request):
            recalled = self.vintages.recall(series_id, as_of)
            if recalled is None:
                return None
            driver_vintages.append((name, series_id, int(recalled.vintage_id)))
        return self._hit(self._key(request, model, levels, vintage, tuple(driver_vintages)))

    def _driver_vintages(self, request: ForecastRequest, store: Store) -> tuple[tuple[str, str, int], ...] | None:
        """The vintage of each stored driver from the store's lists (None: one is not resolved)."""
        out = []
        for name, series_id, as_of in _stored_drivers(request):
            try:
                found = self.vintages.lookup(store, series_id, as_of)
            except SeriesNotFoundError:
                return None  # read_stored_drivers raises it, naming the driver
            if found is None:
                return None
            out.append((name, series_id, int(found.vintage_id)))
        return tuple(out)

    # ---------------------------------------------------------------- admission
    def _submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[TaskResult[T]]:
        """Submit one admitted fit; its slot comes back when its future ends."""
        try:
            future = self.executor.submit(fn, *args, **kwargs)
        except BaseException:
            self.gate.release()
            raise
        self.gate.release_when_done(future)
        future.add_done_callback(lambda f: None if f.cancelled() else self.gate.observe(f.result().seconds))
        return future

    def submit_fit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[TaskResult[T]]:
        """Admit one fit to the bounded queue and submit it (``OverloadedError`` when full)."""
        self.gate.acquire()
        return self._submit(fn, *args, **kwargs)

    # ---------------------------------------------------------------- forecasts
    def forecast(self, request: ForecastRequest, store: Store) -> tuple[ForecastResult, bool]:
        """One forecast: from the cache, or fitted and archived. Returns (forecast, cached).

        Waits for the fit in this thread; the REST route waits on the event loop instead
        (:meth:`start_forecast`, then :meth:`finish_forecast`).
        """
        step = self.start_forecast(request, store)
        if isinstance(step, ForecastResult):
            return step, True
        return self.finish_forecast(step, step.future.result(), store), False

    def start_forecast(self, request: ForecastRequest, store: Store) -> ForecastResult | ForecastFit:
        """The cached forecast, or a fit admitted and submitted (its future to wait for).

        The cache is checked before the data are parsed (inline) or read (stored: only
        its vintage list is read).

        Raises
        ------
        OverloadedError
            When ``max_pending`` fits are already queued or running (nothing submitted).
        """
        model, levels = self._checked(request)
        source = request.source
        vintage = None
        if source.series_id is not None:
            vintage = self.vintages.lookup(store, source.series_id, source.as_of)
        driver_vintages = self._driver_vintages(request, store)
        if (source.series_id is None or vintage is not None) and driver_vintages is not None:
            hit = self._hit(self._key(request, model, levels, vintage, driver_vintages))
            if hit is not None:
                return hit
        self.gate.check()  # a full queue refuses before the data are read or parsed
        vintage_id = vintage.vintage_id if vintage is not None else None
        prepared = prepare(
            source,
            store,
            self.limits,
            self._parse,
            vintage_id=vintage_id,
            driver_vintages={name: v for name, _, v in driver_vintages or ()},
        )
        plan = plan_request(request, prepared, model, levels)  # every check before the fit, once
        self.gate.acquire()
        self.metrics.cache_misses.inc()
        future = self._submit(fit_plan, plan)
        return ForecastFit(request, prepared, model, levels, future)

    def finish_forecast(self, fit: ForecastFit, outcome: TaskResult[FitOutcome], store: Store) -> ForecastResult:
        """Archive and cache a finished fit (raises the fit's error if it failed)."""
        return self._record(fit.request, fit.prepared, fit.model, fit.levels, outcome, store)

    def _record(
        self,
        request: ForecastRequest,
        prepared: Prepared,
        model: str,
        levels: tuple[int, ...],
        outcome: TaskResult[FitOutcome],
        store: Store,
    ) -> ForecastResult:
        """Archive a fitted forecast and cache it (raises the fit's error if it failed)."""
        fit = outcome.unwrap()
        self.metrics.fit_duration.labels(model).observe(outcome.seconds)
        result = archive_forecast(
            store,
            prepared,
            model=model,
            transform=request.transform,
            horizon=request.horizon,
            levels=levels,
            fit=fit,
            notes=outcome.notes,
        )
        self.cache.put(self._key(request, model, levels, prepared.vintage, prepared.driver_vintages), result)
        self.metrics.cache_size.set(len(self.cache))
        return result

    def forecast_batch(
        self, request: BatchRequest, store: Store, *, admit: bool = False, progress: ProgressTracker | None = None
    ) -> list[BatchItemResult]:
        """Forecast every series; one that fails gives an error item, not a failed batch.

        Waits in this thread. ``admit=False`` (batch jobs, already bounded by the job
        runner) skips the fitting-queue bound; the REST route uses :meth:`start_batch`.
        The fits are submitted a window at a time and each item is counted on ``progress``
        as it ends; an item whose worker process died is run once more (:meth:`run_batch`).
        """
        fit = self.start_batch(request, store, admit=admit, submit=False)
        if progress is not None:
            for i, item in sorted(fit.items.items()):
                progress.item_done(_item_name(item.label, i), item.error)
        return self.finish_batch(fit, self.run_batch(fit, progress), store)

    def start_batch(self, request: BatchRequest, store: Store, *, admit: bool = True, submit: bool = True) -> BatchFit:
        """Read every series, answer what the cache holds and submit the misses' fits.

        A series that cannot be read is an error item. The misses are admitted together
        (:class:`~api.service.admission.FitGate`): a batch is refused whole or fitted whole.
        With ``submit=False`` their fits are only prepared (``fit.tasks``), for
        :meth:`run_batch` to submit.

        Raises
        ------
        OverloadedError
            With ``admit``, when the misses do not fit in the fitting queue.
        """
        model, levels = self._checked(request)
        fit = BatchFit(request, model, levels)
        for i, source in enumerate(request.sources):
            item = request.item(source)
            try:
                prepared = prepare(source, store, self.limits, self._parse)
            except ForecastingError as exc:
                fit.items[i] = BatchItemResult(i, source.label, error=exc)
                continue
            hit = self._hit(self._key(item, model, levels, prepared.vintage, prepared.driver_vintages))
            if hit is not None:
                fit.items[i] = BatchItemResult(i, source.label, result=hit)
            else:
                fit.pending[i] = (item, prepared)
        if admit:
            self.gate.acquire(len(fit.pending))
        else:  # slots are still counted, so that the REST routes see this load
            self.gate.force(len(fit.pending))
        self.metrics.cache_misses.inc(len(fit.pending))
        try:
            for i, (item, p) in list(fit.pending.items()):
                try:
                    plan = plan_request(item, p, model, levels)
                except ForecastingError as exc:
                    self.gate.release()
                    fit.items[i] = BatchItemResult(i, request.sources[i].label, error=exc)
                    del fit.pending[i]
                    continue
                fit.tasks[i] = functools.partial(fit_plan, plan)
                if submit:
                    fit.futures[i] = self._submit(fit.tasks[i])
        except BaseException:
            # _submit gave back the failed task's slot; the slots of those never tried go too.
            self.gate.release(len(fit.pending) - len(fit.futures) - (1 if submit else 0))
            for future in fit.futures.values():
                future.cancel()
            raise
        return fit

    def run_batch(self, fit: BatchFit, progress: ProgressTracker | None = None) -> dict[int, TaskResult[FitOutcome]]:
        """Submit the prepared fits of ``fit`` a window at a time and wait for them all
        (see :func:`run_batch_fits`: progress per item, items lost with a worker re-run once)."""
        return run_batch_fits(fit, self._submit, self.gate, self.executor.stream_window(), progress)

    def settler(self, fit: BatchFit) -> BatchSettler:
        """The outcomes of ``fit`` as its fits end, under the rule for items lost with a worker
        (the REST route waits for them on the event loop: :func:`api.waiting.await_batch`)."""
        return BatchSettler(fit, self.gate)

    def resubmit(self, fit: BatchFit, indices: list[int]) -> dict[int, Future[TaskResult[FitOutcome]]]:
        """Submit once more the fits of the items ``indices`` of ``fit`` that :class:`BatchSettler`
        sent back (their slots are already taken again); a broken process pool is replaced."""
        return {i: self._submit(fit.tasks[i]) for i in indices}

    def finish_batch(
        self, fit: BatchFit, outcomes: dict[int, TaskResult[FitOutcome]], store: Store
    ) -> list[BatchItemResult]:
        """Archive the fitted items; only library errors become error items (a bug fails the batch)."""
        items = dict(fit.items)
        for i, outcome in outcomes.items():
            label = fit.request.sources[i].label
            if isinstance(outcome.error, ForecastingError):
                items[i] = BatchItemResult(i, label, error=outcome.error)
                continue
            item, prepared = fit.pending[i]
            result = self._record(item, prepared, fit.model, fit.levels, outcome, store)
            items[i] = BatchItemResult(i, label, result=result)
        return [items[i] for i in sorted(items)]

    # ---------------------------------------------------------------- backtests
    def backtest(self, request: BacktestRequest, store: Store) -> BacktestResult:
        """Rolling-origin evaluation of one or more models, scored per model and per window."""
        fit = self.start_backtest(request, store)
        return self.finish_backtest(fit, fit.future.result())

    def start_backtest(self, request: BacktestRequest, store: Store) -> BacktestFit:
        """Check and read the request's series, then admit and submit its backtest.

        Raises
        ------
        OverloadedError
            When ``max_pending`` fits are already queued or running (nothing submitted).
        """
        models = check_backtest(request.models, request.windows, self.limits)
        levels = check_forecast(request.horizon, request.levels, self.limits)
        self.gate.check()  # a full queue refuses before the data are read or parsed
        prepared = prepare(request.source, store, self.limits, self._parse)
        drivers = request.source.drivers
        events = drivers.event_list() if drivers is not None else None
        self.gate.acquire()
        future = self._submit(
            backtest_models,
            prepared.y,
            request.horizon,
            request.windows,
            models,
            levels,
            request.step,
            prepared.kind,
            transform=request.transform,
            drivers=prepared.drivers,
            events=events,
            # 'latest_stretch' has already cut the gaps away in prepare().
            missing="model" if request.source.missing == "model" else "error",
        )
        return BacktestFit(request, prepared, levels, future)

    def finish_backtest(self, fit: BacktestFit, outcome: TaskResult[pd.DataFrame]) -> BacktestResult:
        """Score a finished backtest (raises its error if it failed)."""
        frame = outcome.unwrap()
        request, prepared = fit.request, fit.prepared
        window_scores, model_scores = score_backtest(frame, prepared.y)
        return BacktestResult(
            series_id=prepared.series_id,
            frequency=prepared.frequency,
            horizon=request.horizon,
            windows=request.windows,
            step=request.step,
            levels=fit.levels,
            frame=frame,
            window_scores=window_scores,
            model_scores=model_scores,
            warnings=tuple(dict.fromkeys((*prepared.notes, *outcome.notes))),
            best=best_models(model_scores),
        )


def _extras(request: ForecastRequest, driver_vintages: tuple[tuple[str, str, int], ...] = ()) -> tuple[Hashable, ...]:
    """What else than the series and the settings changes the forecast (empty for a plain one).

    Stored drivers count by the vintage read, so a new vintage of a driver is a new forecast.
    """
    drivers = request.source.drivers
    if drivers is None and request.scenarios is None and not request.check_breaks:
        return ()
    return (
        drivers.digest if drivers is not None else None,
        request.scenarios.digest if request.scenarios is not None else None,
        request.check_breaks,
        driver_vintages,
    )


def _stored_drivers(request: ForecastRequest) -> list[tuple[str, str, datetime | None]]:
    """(driver name, series id, as_of) of each driver of ``request`` that references a stored series."""
    drivers = request.source.drivers
    if drivers is None:
        return []
    return [(c.name, c.series_id, c.as_of or request.source.as_of) for c in drivers.stored if c.series_id]


class BatchSettler:
    """The outcomes of a batch's fits as they end, under the rule for items lost with a worker.

    An item whose worker process died (:class:`~forecasting.exceptions.WorkerLostError`:
    with a process pool, every item queued on the pool that broke) is to be submitted once
    more, on a new pool, its slot taken again on ``gate``; lost again, it stays an error
    item. Each final outcome is counted on ``progress``. Both ways of waiting for a batch
    use it: :func:`run_batch_fits` in a thread (command line, batch jobs) and
    :func:`api.waiting.await_batch` on the event loop (the REST route's synchronous batch).
    """

    def __init__(self, fit: BatchFit, gate: FitGate, progress: ProgressTracker | None = None) -> None:
        self.fit = fit
        self.gate = gate
        self.progress = progress
        #: The final outcome of each fitted item, by its position in the batch.
        self.outcomes: dict[int, TaskResult[FitOutcome]] = {}
        self.retried: set[int] = set()

    def settle(self, i: int, outcome: TaskResult[FitOutcome]) -> bool:
        """Record item ``i``'s ``outcome``: True when final, False when the item must be submitted once more."""
        name = _item_name(self.fit.request.sources[i].label, i)
        if isinstance(outcome.error, WorkerLostError) and i not in self.retried:
            self.retried.add(i)
            logger.warning("batch item %s: its worker process died; running it once more", name)
            self.gate.force(1)
            if self.progress is not None:
                self.progress.item_retried(name)
            return False
        self.outcomes[i] = outcome
        if self.progress is not None:
            self.progress.item_done(name, outcome.error)
        return True


def run_batch_fits(
    fit: BatchFit,
    submit: Callable[[Callable[[], FitOutcome]], Future[TaskResult[FitOutcome]]],
    gate: FitGate,
    window: int,
    progress: ProgressTracker | None = None,
) -> dict[int, TaskResult[FitOutcome]]:
    """Submit the prepared fits of ``fit`` (at most ``window`` in flight) and wait for them all.

    Each item is counted on ``progress`` as it ends (in process, fits run as they are
    submitted, so one that is done at once is counted before the next is submitted). An
    item lost with its worker process is submitted once more (:class:`BatchSettler`).
    """
    queue = sorted(fit.tasks)
    pending: dict[Future[TaskResult[FitOutcome]], int] = {}
    settler = BatchSettler(fit, gate, progress)

    def settle(i: int, outcome: TaskResult[FitOutcome]) -> None:
        if not settler.settle(i, outcome):
            queue.append(i)

    try:
        while queue or pending:
            while queue and len(pending) < window:
                i = queue.pop(0)
                future = submit(fit.tasks[i])
                if future.done():
                    settle(i, future.result())
                else:
                    pending[future] = i
            if pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.__getitem__):
                    settle(pending.pop(future), future.result())
    except BaseException:
        gate.release(len(queue))  # the slots of the fits never submitted
        for future in pending:
            future.cancel()
        raise
    return settler.outcomes


def _item_name(label: str | None, index: int) -> str:
    """How a batch item is named in progress records: its label, else its position."""
    return label or f"#{index}"


def plan_request(request: ForecastRequest, prepared: Prepared, model: str, levels: tuple[int, ...]) -> ForecastPlan:
    """The request checked by :func:`forecasting.plan_forecast` (422s before any fit).

    What only a request has is settled here: growth or full year with scenarios is refused
    (the response has one set of blocks), and stored drivers that only the scenarios cover
    over the horizon are marked to be forecast by their own model for the baseline.
    """
    scenarios = scenario_tables(request.scenarios, prepared.frequency)
    blocks = request.growth is not None or request.full_year is not None
    if blocks and scenarios:
        raise InvalidParameterError(
            "'growth' and 'full_year' are not available with scenarios (one forecast per scenario); ask for them "
            "in a separate request without 'scenarios'."
        )
    inputs, stored = request.source.drivers, prepared.stored_drivers
    extend: tuple[str, ...] = ()
    if inputs is not None and stored is not None:
        # The drivers must cover the paths of the blocks: to the end of the last forecast year.
        horizon = outlook_horizon(prepared.y.index, request.horizon) if blocks else request.horizon
        extend = check_stored_coverage(inputs, stored, prepared.y.index, horizon, scenarios)
    return plan_forecast(
        prepared.y,
        request.horizon,
        levels,
        model,
        prepared.kind,
        transform=request.transform,
        drivers=prepared.drivers,
        extend=extend,
        events=inputs.event_list() if inputs is not None else None,
        # 'latest_stretch' has already cut the gaps away in prepare().
        missing="model" if request.source.missing == "model" else "error",
        check_breaks=request.check_breaks,
        growth=request.growth,
        full_year=request.full_year,
        scenarios=scenarios,
        driver_uncertainty=request.scenarios.driver_uncertainty if request.scenarios is not None else False,
    )
