"""Application factory for the REST service."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from api.auth import AuthMiddleware, add_security_scheme
from api.convert import inline_to_series
from api.deps import app_source_options
from api.docs import install_offline_docs
from api.errors import install_error_handlers
from api.examples import add_request_examples
from api.jobs import JobManager, submit_refresh_job
from api.logs import configure_logging
from api.metrics import Metrics
from api.middleware import FitAdmissionMiddleware, RequestContextMiddleware, SingleValueQueryMiddleware
from api.retention import start_pruner, stop_pruner
from api.routes import backtests, forecasts, health, jobs, models, series, sources, structures
from api.routes.reports import router as reports_router
from api.schemas import ErrorRead
from api.service import ForecastService, Limits
from api.service.admission import UploadWorker
from api.service.reports import ReportRunner
from api.settings import Settings, get_settings, report_unknown_variables
from data import Store
from forecasting.executor import DaskExecutor, Executor, InProcessExecutor, ProcessExecutor
from reports.refresh import RefreshScheduler, start_refresh_scheduler
from reports.scheduler import ReportScheduler, start_scheduler, stop_scheduler

__all__ = ["build_service", "create_app", "fit_executor", "service_limits"]

logger = logging.getLogger(__name__)

#: Documented on every /v1 route, so clients (and schemathesis) know the error shape.
#: The explicit JSON content keeps the error shape right on routes whose success is HTML.
_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorRead.__name__}"}}},
    }
    for status in (400, 401, 403, 404, 413, 422, 500, 503)
}


#: The application's identity; /docs and /redoc are served offline by install_offline_docs (no CDN).
_APP_OPTIONS: dict[str, Any] = {
    "title": "tradecast",
    "version": "0.1.0",
    "summary": "Forecasts of economic time series with prediction intervals.",
    "docs_url": None,
    "redoc_url": None,
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI application; nothing is built at import time.

    ``settings`` (default: :func:`get_settings`, from the environment) is what the routes
    see through :data:`api.deps.SettingsDep`, so a test app and its routes always agree.
    Unknown ``TRADECAST_*`` variables are logged as warnings here (typos are not silent).
    """
    settings = settings or get_settings()
    configure_logging(settings.logging.log_level, settings.logging.log_json)
    report_unknown_variables()
    metrics = Metrics()
    service = build_service(settings, metrics)
    store = settings.store.open_store()
    job_manager = JobManager(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.store.create_schema:
            await run_in_threadpool(store.create_schema)
        await run_in_threadpool(job_manager.start, store, service, partial(app_source_options, app))
        service.start()
        # Other services hosted by this process (report runner, report and source-refresh schedulers).
        services = await run_in_threadpool(start_services, app, store, settings)
        pruner = start_pruner(store, settings.store.forecast_retention_days)
        if settings.api.gc_freeze:
            _freeze_startup_objects()
        logger.info("tradecast API ready (store %s)", store_label(settings.store.database_url))
        try:
            yield
        finally:
            stop_pruner(pruner)
            stop_services(app, services)
            job_manager.shutdown()
            uploads.shutdown()
            service.shutdown()
            store.dispose()

    app = FastAPI(lifespan=lifespan, **_APP_OPTIONS)
    app.state.settings = settings
    app.state.api_keys = settings.keys()
    app.state.metrics = metrics
    app.state.service = service
    app.state.store = store
    app.state.jobs = job_manager
    app.state.uploads = uploads = UploadWorker(settings.api.max_concurrent_uploads)

    install_error_handlers(app)
    _add_middleware(app, settings, metrics)

    app.include_router(health.router)
    install_offline_docs(app)
    # Keys are checked by AuthMiddleware, before a route parses the body.
    v1 = {"prefix": "/v1", "responses": _ERROR_RESPONSES}
    # forecasts first: routes are matched in order, and it is the hottest resource.
    for module in (forecasts, models, series, backtests, jobs, structures, sources):
        app.include_router(module.router, **v1)  # type: ignore[arg-type]
    app.include_router(reports_router, **v1)  # type: ignore[arg-type]
    _declare_security(app)
    return app


_Services = tuple[ReportScheduler | None, RefreshScheduler | None]


def start_services(app: FastAPI, store: Store, settings: Settings) -> _Services:
    """Start the runner of REST report runs (redoing runs interrupted by a stop), the report
    scheduler and the source-refresh scheduler (both schedulers off when the scheduler is)."""
    app.state.report_runner = ReportRunner(store, settings.reports)
    app.state.report_runner.recover()
    reports = start_scheduler(store, settings.reports)
    jobs: JobManager = app.state.jobs
    # A due refresh runs as a durable job: another instance takes it over if this one stops.
    queue = partial(submit_refresh_job, jobs)
    return reports, start_refresh_scheduler(store, settings.reports, settings.sources.options(), queue)


def stop_services(app: FastAPI, services: _Services) -> None:
    """Stop what :func:`start_services` started."""
    reports, refreshes = services
    stop_scheduler(reports)
    if refreshes is not None:
        refreshes.shutdown()
    app.state.report_runner.shutdown()


def _add_middleware(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """The middleware stack, outermost last: request context, then keys, then the routes."""
    # Inside the key check: a repeated single-valued query parameter is a 422 for a caller
    # with a valid key only.
    app.add_middleware(FitAdmissionMiddleware)  # a full fitting queue refuses before the body is parsed
    app.add_middleware(SingleValueQueryMiddleware)
    # Added first, so it runs inside the request context (request id, metrics), and before
    # any body is read: the body limits apply when a route reads it (api.middleware).
    app.add_middleware(AuthMiddleware)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.api.body_timeout_seconds,
    )


def _freeze_startup_objects() -> None:
    # Move everything allocated at start-up (pandas, statsmodels, the app) out of the
    # collector's reach, so full collections under load stay short (p99 latency).
    gc.collect()
    gc.freeze()


def build_service(settings: Settings, metrics: Metrics) -> ForecastService:
    """The forecast service wired from the settings: limits, fitting executor, cache."""
    scheduler = settings.executor.dask_scheduler
    executor = fit_executor(settings.fit_workers, scheduler) if scheduler else fit_executor(settings.fit_workers)
    return ForecastService(
        service_limits(settings),
        metrics,
        executor,
        inline_to_series,
        cache_size=settings.cache_size,
        vintage_ttl=settings.vintage_ttl_seconds,
        max_pending_fits=settings.executor.max_pending_fits,
        warm=settings.executor.warm_up,
    )


def service_limits(settings: Settings) -> Limits:
    """The service's limits from the settings of the same names."""
    return Limits(
        default_model=settings.default_model,
        max_horizon=settings.max_horizon,
        max_levels=settings.max_levels,
        max_series_length=settings.max_series_length,
        min_series_length=settings.min_series_length,
        max_backtest_windows=settings.max_backtest_windows,
        max_backtest_models=settings.max_backtest_models,
    )


def fit_executor(fit_workers: int, dask_scheduler: str | None = None) -> Executor:
    """Worker processes for fitting (``TRADECAST_FIT_WORKERS``), or in process when 0.

    With ``TRADECAST_DASK_SCHEDULER`` the fits run on that Dask cluster instead.
    """
    if dask_scheduler:
        return DaskExecutor(max(fit_workers, 1), scheduler=dask_scheduler)
    if fit_workers <= 0:
        return InProcessExecutor()
    # spawn, not fork: the server process has threads (uvicorn, the threadpool).
    return ProcessExecutor(fit_workers, spawn=True)


def _declare_security(app: FastAPI) -> None:
    """Add the bearer scheme (:mod:`api.auth`) and the request examples (:mod:`api.examples`)
    to the generated OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_request_examples(add_security_scheme(build()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def store_label(url: str) -> str:
    """The database URL without credentials, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
