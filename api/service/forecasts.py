"""The forecast, batch and backtest use cases: limits, cache, fitting on the executor, archive.

Fitting runs on the service's :class:`~forecasting.executor.Executor`: with worker
processes the request thread only waits, so neither the event loop nor the threadpool's
GIL is held by statsmodels, and each fit runs alone in its worker so warning capture
(process-wide before Python 3.14) records exactly that fit's warnings. In process, fits
are serialised for the same reason.
"""

from __future__ import annotations

import functools
import logging

from api.cache import ForecastKey, LRUCache, forecast_key
from api.metrics import Metrics
from api.service.archive import archive_forecast
from api.service.fitting import FitOutcome, fit_forecast, run_backtest, warm_up
from api.service.limits import Limits, check_backtest, check_forecast, check_model_name, check_outlook
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
from data import Store, VintageInfo
from forecasting.core import score_backtest
from forecasting.exceptions import ForecastingError
from forecasting.executor import Executor, TaskResult

__all__ = ["ForecastService"]

logger = logging.getLogger(__name__)


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
    ) -> None:
        self.limits = limits
        self.metrics = metrics
        self.executor = executor
        self.cache: LRUCache[ForecastResult] = LRUCache(cache_size)
        self.vintages = VintageMemory(vintage_ttl)
        self._parse = parse

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start the workers (warmed up in the background)."""
        self.executor.start(warm_up=warm_up)

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
    def _key(request: ForecastRequest, model: str, levels: tuple[int, ...], vintage: VintageInfo | None) -> ForecastKey:
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
        )

    def _hit(self, key: ForecastKey) -> ForecastResult | None:
        hit = self.cache.get(key)
        if hit is not None:
            self.metrics.cache_hits.inc()
        return hit

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
        return self._hit(self._key(request, model, levels, vintage))

    # ---------------------------------------------------------------- forecasts
    def forecast(self, request: ForecastRequest, store: Store) -> tuple[ForecastResult, bool]:
        """One forecast: from the cache, or fitted and archived. Returns (forecast, cached).

        The cache is checked before the data are parsed (inline) or read (stored: only
        its vintage list is read).
        """
        model, levels = self._checked(request)
        source = request.source
        vintage = None
        if source.series_id is not None:
            vintage = self.vintages.lookup(store, source.series_id, source.as_of)
        if source.series_id is None or vintage is not None:
            hit = self._hit(self._key(request, model, levels, vintage))
            if hit is not None:
                return hit, True
        vintage_id = vintage.vintage_id if vintage is not None else None
        prepared = prepare(source, store, self.limits, self._parse, vintage_id=vintage_id)
        check_outlook(prepared.y, prepared.kind, request.growth, request.full_year)
        self.metrics.cache_misses.inc()
        outcome = self.executor.run(
            fit_forecast,
            prepared.y,
            request.horizon,
            levels,
            model,
            prepared.kind,
            request.transform,
            request.growth,
            request.full_year,
        )
        return self._record(request, prepared, model, levels, outcome, store), False

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
        self.cache.put(self._key(request, model, levels, prepared.vintage), result)
        self.metrics.cache_size.set(len(self.cache))
        return result

    def forecast_batch(self, request: BatchRequest, store: Store) -> list[BatchItemResult]:
        """Forecast every series; one that fails gives an error item, not a failed batch.

        Cache misses are fitted concurrently on the executor. Only library errors become
        error items; anything else (a bug) fails the batch.
        """
        model, levels = self._checked(request)
        items: dict[int, BatchItemResult] = {}
        pending: dict[int, tuple[ForecastRequest, Prepared]] = {}
        for i, source in enumerate(request.sources):
            item = request.item(source)
            try:
                prepared = prepare(source, store, self.limits, self._parse)
            except ForecastingError as exc:
                items[i] = BatchItemResult(i, source.label, error=exc)
                continue
            hit = self._hit(self._key(item, model, levels, prepared.vintage))
            if hit is not None:
                items[i] = BatchItemResult(i, source.label, result=hit)
                continue
            self.metrics.cache_misses.inc()
            pending[i] = (item, prepared)
        fit = functools.partial(fit_forecast, horizon=request.horizon, levels=levels, model=model)
        tasks = (
            (i, functools.partial(fit, p.y, kind=p.kind, transform=request.transform)) for i, (_, p) in pending.items()
        )
        for i, outcome in self.executor.stream(tasks):
            label = request.sources[i].label
            if isinstance(outcome.error, ForecastingError):
                items[i] = BatchItemResult(i, label, error=outcome.error)
                continue
            item, prepared = pending[i]
            items[i] = BatchItemResult(i, label, result=self._record(item, prepared, model, levels, outcome, store))
        return [items[i] for i in sorted(items)]

    # ---------------------------------------------------------------- backtests
    def backtest(self, request: BacktestRequest, store: Store) -> BacktestResult:
        """Rolling-origin evaluation of one or more models, scored per model and per window."""
        models = check_backtest(request.models, request.windows, self.limits)
        levels = check_forecast(request.horizon, request.levels, self.limits)
        prepared = prepare(request.source, store, self.limits, self._parse)
        outcome = self.executor.run(
            run_backtest,
            prepared.y,
            request.horizon,
            request.windows,
            models,
            levels,
            request.step,
            prepared.kind,
            request.transform,
        )
        frame = outcome.unwrap()
        window_scores, model_scores = score_backtest(frame, prepared.y)
        return BacktestResult(
            series_id=prepared.series_id,
            frequency=prepared.frequency,
            horizon=request.horizon,
            windows=request.windows,
            step=request.step,
            levels=levels,
            frame=frame,
            window_scores=window_scores,
            model_scores=model_scores,
            warnings=tuple(dict.fromkeys((*prepared.notes, *outcome.notes))),
        )
