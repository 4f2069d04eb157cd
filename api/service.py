"""What the forecast, backtest and batch routes call: limits, cache, fitting, archive.

Fitting runs in a process pool when ``TRADECAST_FIT_WORKERS`` > 0 (the default): the
request thread only waits, so neither the event loop nor the threadpool's GIL is held by
statsmodels, and each fit runs alone in its worker so ``warnings.catch_warnings`` (which
is process-global before Python 3.14) records exactly that fit's warnings. With
``fit_workers=0`` fits run in the request thread under a lock, for the same reason.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
import warnings
from collections.abc import Hashable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

import forecasting
from api.cache import LRUCache, data_hash
from api.config import ApiSettings
from api.convert import (
    backtest_scores_to_read,
    check_complete,
    check_model_name,
    observations_to_series,
    record_params_to_read,
    vintage_to_dict,
)
from api.errors import detailed
from api.metrics import Metrics
from api.schemas import (
    BacktestCreate,
    BacktestRead,
    BatchForecastCreate,
    BatchForecastRead,
    BatchItemRead,
    ErrorDetail,
    ForecastCreate,
    ForecastRead,
    ObservationRead,
    WarningRead,
)
from data import ForecastRecord, Store, VintageInfo
from forecasting.base import BaseForecaster
from forecasting.exceptions import ForecastingError, InvalidParameterError
from forecasting.registry import get_model
from forecasting.transforms import Transformed

__all__ = ["FitOutcome", "ForecastService", "Prepared", "fit_forecast"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A validated input series and where it came from."""

    y: pd.Series
    frequency: str
    kind: str
    series_id: str | None
    vintage: VintageInfo | None
    data_hash: str | None
    requested_kind: str | None = None
    missing: str = "error"
    notes: tuple[tuple[str, str], ...] = ()

    def identity(self) -> Hashable:
        """What identifies the data for the cache: the stored vintage or the inline hash."""
        if self.vintage is not None:
            return _vintage_identity(self.series_id, self.vintage.vintage_id, self.requested_kind, self.missing)
        return ("inline", self.data_hash, self.frequency, self.kind, self.missing)


def _complete(y: pd.Series, missing: str, field: str) -> tuple[pd.Series, tuple[tuple[str, str], ...]]:
    """Refuse missing values, or keep the latest unbroken stretch with a note, as asked."""
    if missing == "latest_stretch":
        stretch, note = forecasting.core.latest_complete_stretch(y)
        return stretch, ((("missing_values", note),) if note else ())
    check_complete(y, field=field)
    return y, ()


def _vintage_identity(
    series_id: str | None, vintage_id: int, requested_kind: str | None, missing: str = "error"
) -> Hashable:
    # The kind asked for, not the stored one: a vintage's stored kind never changes, so
    # "stored" identifies it without reading the series' metadata on the cached path.
    return ("vintage", series_id, vintage_id, requested_kind or "stored", missing)


@dataclass(frozen=True)
class CachedForecast:
    """A forecast and its response body, serialised once."""

    read: ForecastRead
    body: bytes

    @classmethod
    def of(cls, read: ForecastRead) -> CachedForecast:
        return cls(read, read.model_dump_json().encode())


@dataclass
class FitOutcome:
    """What a worker sends back: the frame, its warnings and how long it took."""

    frame: pd.DataFrame
    interval_method: str
    warnings: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _estimator(model: str, transform: str, kind: str) -> str | BaseForecaster:
    if transform == "none":
        return model
    if kind == "share":
        raise detailed(
            InvalidParameterError(
                "transform='log' applies to level series; share series are already modelled on the "
                "logit scale. Drop 'transform' or use kind='level'."
            ),
            {"field": "transform", "value": transform},
        )
    return Transformed(model=get_model(model), transform="log")


def _warning_code(category: type[Warning]) -> str:
    code = getattr(category, "code", None)
    return str(code) if code else category.__name__


def fit_forecast(
    y: pd.Series, horizon: int, levels: tuple[int, ...], model: str, kind: str, transform: str
) -> FitOutcome:
    """Fit and forecast one series, recording warnings (runs in a worker process)."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = forecasting.forecast(y, horizon, levels=levels, model=_estimator(model, transform, kind), kind=kind)
    seen: set[tuple[str, str]] = set()
    notes: list[tuple[str, str]] = []
    for w in caught:
        note = (_warning_code(w.category), str(w.message))
        if note not in seen:
            seen.add(note)
            notes.append(note)
    return FitOutcome(
        frame=frame,
        interval_method=str(frame.attrs.get("interval_method", "")),
        warnings=notes,
        seconds=time.perf_counter() - start,
    )


def run_backtest(
    y: pd.Series,
    horizon: int,
    windows: int,
    models: tuple[str, ...],
    levels: tuple[int, ...],
    step: int,
    kind: str,
    transform: str,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Run :func:`forecasting.backtest` recording warnings (runs in a worker process)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimators = [_estimator(m, transform, kind) for m in models]
        frame = forecasting.backtest(y, horizon, windows, models=estimators, levels=levels, step=step, kind=kind)
    labels = {type(e).__name__: m for e, m in zip(estimators, models, strict=True) if not isinstance(e, str)}
    if labels:
        frame["model"] = frame["model"].map(lambda v: labels.get(v, v))
    notes = sorted({(_warning_code(w.category), str(w.message)) for w in caught})
    return frame, notes


def _warm_up() -> int:
    """Imported in a fresh worker so the first real fit does not pay the import time."""
    return len(forecasting.list_models())


class ForecastService:
    """Fits, caches and archives forecasts for one app instance."""

    def __init__(self, settings: ApiSettings, metrics: Metrics) -> None:
        self.metrics = metrics
        self.cache: LRUCache[CachedForecast] = LRUCache(settings.cache_size)
        self._workers = settings.fit_workers
        self._executor: Executor | None = None
        self._executor_lock = threading.Lock()
        self._inline_lock = threading.Lock()
        self._vintage_ttl = settings.vintage_ttl_seconds
        self._vintages: dict[str, tuple[float, list[VintageInfo]]] = {}
        self._refreshing: set[str] = set()

    # ---------------------------------------------------------------- executor
    def start(self) -> None:
        """Start the worker processes (and warm them up in the background)."""
        if self._workers > 0:
            pool = self._pool()
            for _ in range(self._workers):
                pool.submit(_warm_up)

    def shutdown(self) -> None:
        """Stop the worker processes: queued fits are cancelled, running ones finish.

        Waiting matters: a uvicorn worker is itself a multiprocessing child that exits
        without running ``atexit`` hooks, so un-joined fitting processes would be orphaned.
        """
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> Executor:
        with self._executor_lock:
            if self._executor is None:
                # spawn, not fork: the server process has threads (uvicorn, the threadpool).
                self._executor = ProcessPoolExecutor(
                    max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
                )
            return self._executor

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        """Start ``fn(*args)`` in a worker process (inline, already finished, when there are none)."""
        if self._workers <= 0:
            done: Future[Any] = Future()
            try:
                with self._inline_lock:
                    done.set_result(fn(*args))
            except Exception as exc:
                done.set_exception(exc)
            return done
        return self._pool().submit(fn, *args)

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` in a worker process (or inline under a lock when there are none)."""
        if self._workers <= 0:
            with self._inline_lock:
                return fn(*args)
        try:
            return self._pool().submit(fn, *args).result()
        except BrokenProcessPool:
            logger.error("a fitting worker died; restarting the pool")
            self.shutdown()
            raise

    # ---------------------------------------------------------------- inputs
    def prepare(self, source: Any, store: Store, settings: ApiSettings, *, vintage_id: int | None = None) -> Prepared:
        """Validate the series named or posted by ``source`` against the limits."""
        if source.series_id is not None:
            if vintage_id is not None:
                stored = store.read_series(source.series_id, vintage_id=vintage_id)
            else:
                stored = store.read_series(source.series_id, as_of=source.as_of)
            y, frequency = stored.series, stored.meta.frequency
            kind = source.kind or stored.meta.kind
            y, notes = _complete(y, source.missing, f"series {source.series_id!r}")
            prepared = Prepared(
                y, frequency, kind, source.series_id, stored.vintage, None, source.kind, source.missing, notes
            )
        else:
            y, notes = _complete(observations_to_series(source.data, source.frequency), source.missing, "data")
            digest = _inline_hash(source.data, source.frequency)
            prepared = Prepared(
                y, source.frequency, source.kind or "level", None, None, digest, None, source.missing, notes
            )
        n = len(prepared.y)
        if n > settings.max_series_length:
            raise detailed(
                InvalidParameterError(
                    f"the series has {n} observations; this service accepts at most "
                    f"{settings.max_series_length} (TRADECAST_MAX_SERIES_LENGTH)."
                ),
                {"field": "data", "limit": settings.max_series_length, "value": n},
            )
        if n < settings.min_series_length:
            raise detailed(
                forecasting.InsufficientDataError(
                    f"the series has {n} observation(s); at least {settings.min_series_length} are needed."
                ),
                {"field": "data", "limit": settings.min_series_length, "value": n},
            )
        return prepared

    @staticmethod
    def check_limits(horizon: int, levels: Sequence[int], settings: ApiSettings) -> tuple[int, ...]:
        """Check horizon and levels against the settings; return the sorted unique levels."""
        if horizon > settings.max_horizon:
            raise detailed(
                InvalidParameterError(
                    f"horizon={horizon} is above this service's limit of {settings.max_horizon} "
                    "(TRADECAST_MAX_HORIZON)."
                ),
                {"field": "horizon", "limit": settings.max_horizon, "value": horizon},
            )
        unique = tuple(sorted(set(levels)))
        if len(unique) > settings.max_levels:
            raise detailed(
                InvalidParameterError(
                    f"{len(unique)} levels requested; at most {settings.max_levels} are allowed (TRADECAST_MAX_LEVELS)."
                ),
                {"field": "levels", "limit": settings.max_levels, "value": len(unique)},
            )
        return unique

    # ---------------------------------------------------------------- forecasts
    def cached_forecast(self, body: ForecastCreate, settings: ApiSettings) -> CachedForecast | None:
        """The cached forecast for ``body`` using only memory (no database, no fitting), or None.

        Cheap enough to run on the event loop. For a stored series it relies on the vintage
        list remembered for ``TRADECAST_VINTAGE_TTL_SECONDS``.
        """
        model = check_model_name(body.model or settings.default_model)
        levels = self.check_limits(body.horizon, body.levels, settings)
        if body.series_id is not None:
            remembered = self._vintages.get(body.series_id)
            if remembered is None:
                return None
            if remembered[0] < time.monotonic() and body.series_id not in self._refreshing:
                # Expired: this request refreshes the list (in the threadpool) while the
                # requests arriving meanwhile keep using the old one, so an expiry does not
                # send every concurrent client to the database at once.
                self._refreshing.add(body.series_id)
                return None
            vintage_id = _vintage_at(remembered[1], body.as_of)
            if vintage_id is None:
                return None
            ident = _vintage_identity(body.series_id, vintage_id, body.kind, body.missing)
        else:
            assert body.data is not None and body.frequency is not None
            ident = ("inline", _inline_hash(body.data, body.frequency), body.frequency, body.kind or "level")
        hit = self.cache.get((ident, model, body.transform, body.horizon, levels))
        if hit is not None:
            self.metrics.cache_hits.inc()
        return hit

    def forget_vintages(self, series_id: str) -> None:
        """Drop the remembered vintage list of a series (after this process wrote to it)."""
        self._vintages.pop(series_id, None)
        self._refreshing.discard(series_id)

    def _vintage_list(self, store: Store, series_id: str) -> list[VintageInfo]:
        try:
            vintages = store.list_vintages(series_id)
            if self._vintage_ttl > 0:
                self._vintages[series_id] = (time.monotonic() + self._vintage_ttl, vintages)
            return vintages
        finally:
            self._refreshing.discard(series_id)

    def forecast(self, body: ForecastCreate, store: Store, settings: ApiSettings) -> tuple[CachedForecast, bool]:
        """One forecast: served from the cache, or fitted and archived. Returns (forecast, cached).

        For a stored series the cache is checked after reading only its vintage list (not
        its observations).
        """
        model = check_model_name(body.model or settings.default_model)
        levels = self.check_limits(body.horizon, body.levels, settings)
        vintage_id = None
        if body.series_id is not None:
            vintage_id = _vintage_at(self._vintage_list(store, body.series_id), body.as_of)
            if vintage_id is not None:
                ident = _vintage_identity(body.series_id, vintage_id, body.kind, body.missing)
                hit = self.cache.get((ident, model, body.transform, body.horizon, levels))
                if hit is not None:
                    self.metrics.cache_hits.inc()
                    return hit, True
        prepared = self.prepare(body, store, settings, vintage_id=vintage_id)
        return self.forecast_prepared(prepared, body.horizon, levels, model, body.transform, store)

    def forecast_prepared(
        self,
        prepared: Prepared,
        horizon: int,
        levels: tuple[int, ...],
        model: str,
        transform: str,
        store: Store,
    ) -> tuple[CachedForecast, bool]:
        """Cache lookup, then fit in a worker and archive on a miss."""
        key = (prepared.identity(), model, transform, horizon, levels)
        hit = self.cache.get(key)
        if hit is not None:
            self.metrics.cache_hits.inc()
            return hit, True
        self.metrics.cache_misses.inc()
        outcome: FitOutcome = self.call(fit_forecast, prepared.y, horizon, levels, model, prepared.kind, transform)
        self.metrics.fit_duration.labels(model).observe(outcome.seconds)
        entry = CachedForecast.of(self.archive(prepared, horizon, levels, model, transform, outcome, store))
        self.cache.put(key, entry)
        self.metrics.cache_size.set(len(self.cache))
        return entry, False

    def archive(
        self,
        prepared: Prepared,
        horizon: int,
        levels: tuple[int, ...],
        model: str,
        transform: str,
        outcome: FitOutcome,
        store: Store,
    ) -> ForecastRead:
        """Save the forecast in the store's archive and return it as a schema."""
        params = {
            "frequency": prepared.frequency,
            "kind": prepared.kind,
            "transform": transform,
            "vintage": vintage_to_dict(prepared.vintage),
            "data_hash": prepared.data_hash,
            "interval_method": outcome.interval_method,
            "warnings": [{"code": c, "message": m} for c, m in (*prepared.notes, *outcome.warnings)],
        }
        record = ForecastRecord(
            series_id=prepared.series_id,
            vintage_id=prepared.vintage.vintage_id if prepared.vintage else None,
            model=model,
            params=params,
            horizon=horizon,
            levels=levels,
            frame=outcome.frame,
        )
        forecast_id = store.save_forecast(record)
        created = record.created_at or datetime.now(UTC)
        return record_params_to_read(
            forecast_id, prepared.series_id, model, horizon, levels, outcome.frame, params, created
        )

    # ---------------------------------------------------------------- batches
    def forecast_batch(self, body: BatchForecastCreate, store: Store, settings: ApiSettings) -> BatchForecastRead:
        """Forecast every item; one failing series yields an error entry, not a failed batch.

        Cache misses are fitted concurrently on the worker pool.
        """
        model = check_model_name(body.model or settings.default_model)
        levels = self.check_limits(body.horizon, body.levels, settings)
        results: dict[int, BatchItemRead] = {}
        pending: list[tuple[int, str | None, Prepared, Hashable, Any]] = []
        for i, item in enumerate(body.series):
            label = item.unique_id or item.series_id
            try:
                prepared = self.prepare(item, store, settings)
            except ForecastingError as exc:
                results[i] = BatchItemRead(index=i, unique_id=label, status="error", error=_error_of(exc))
                continue
            key = (prepared.identity(), model, body.transform, body.horizon, levels)
            hit = self.cache.get(key)
            if hit is not None:
                self.metrics.cache_hits.inc()
                results[i] = BatchItemRead(index=i, unique_id=label, status="ok", forecast=hit.read)
                continue
            self.metrics.cache_misses.inc()
            args = (prepared.y, body.horizon, levels, model, prepared.kind, body.transform)
            pending.append((i, label, prepared, key, self.submit(fit_forecast, *args)))
        for i, label, prepared, pkey, future in pending:
            try:
                outcome: FitOutcome = future.result()
            except ForecastingError as exc:
                results[i] = BatchItemRead(index=i, unique_id=label, status="error", error=_error_of(exc))
                continue
            self.metrics.fit_duration.labels(model).observe(outcome.seconds)
            read = self.archive(prepared, body.horizon, levels, model, body.transform, outcome, store)
            self.cache.put(pkey, CachedForecast.of(read))
            results[i] = BatchItemRead(index=i, unique_id=label, status="ok", forecast=read)
        items = [results[i] for i in sorted(results)]
        failed = sum(1 for it in items if it.status == "error")
        return BatchForecastRead(data=items, count=len(items), failed=failed)

    # ---------------------------------------------------------------- backtests
    def backtest(self, body: BacktestCreate, store: Store, settings: ApiSettings) -> BacktestRead:
        """Rolling-origin evaluation of one or more models, scored per model and per window."""
        models = tuple(dict.fromkeys(body.models or [settings.default_model]))
        for i, name in enumerate(models):
            check_model_name(name, field=f"models[{i}]")
        if len(models) > settings.max_backtest_models:
            raise detailed(
                InvalidParameterError(
                    f"{len(models)} models requested; at most {settings.max_backtest_models} per backtest."
                ),
                {"field": "models", "limit": settings.max_backtest_models},
            )
        if body.windows > settings.max_backtest_windows:
            raise detailed(
                InvalidParameterError(
                    f"windows={body.windows} is above this service's limit of {settings.max_backtest_windows}."
                ),
                {"field": "windows", "limit": settings.max_backtest_windows, "value": body.windows},
            )
        levels = self.check_limits(body.horizon, body.levels, settings)
        prepared = self.prepare(body, store, settings)
        frame, notes = self.call(
            run_backtest,
            prepared.y,
            body.horizon,
            body.windows,
            models,
            levels,
            body.step,
            prepared.kind,
            body.transform,
        )
        windows, models = forecasting.core.score_backtest(frame, prepared.y)
        metrics, per_window = backtest_scores_to_read(windows, models, levels)
        return BacktestRead(
            series_id=prepared.series_id,
            frequency=prepared.frequency,  # type: ignore[arg-type]
            horizon=body.horizon,
            windows=body.windows,
            step=body.step,
            levels=list(levels),
            metrics=metrics,
            per_window=per_window,
            rows=_backtest_rows(frame),
            warnings=[WarningRead(code=c, message=m) for c, m in notes],
        )


def _inline_hash(data: Sequence[ObservationRead], frequency: str) -> str:
    return data_hash([frequency, [[o.ds, o.y] for o in data]])


def _vintage_at(vintages: Sequence[VintageInfo], as_of: datetime | None) -> int | None:
    """Id of the latest vintage created at or before ``as_of`` (None: let the store decide)."""
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    chosen = None
    for v in vintages:
        if as_of is None or v.created_at <= as_of:
            chosen = v.vintage_id
    return chosen


def _error_of(exc: BaseException) -> ErrorDetail:
    details = getattr(exc, "details", None)
    if callable(details):
        details = details()
    return ErrorDetail(
        code=str(getattr(exc, "code", "error")),
        message=str(exc),
        details=details if isinstance(details, dict) else {},
    )


def _backtest_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({k: (str(v) if isinstance(v, pd.Period) else v) for k, v in rec.items()})
    return out
