"""The ``tradecast`` command line.

Each group of commands lives in its own module and registers itself here, so the command
tree is explicit: ``serve`` (this module), the store commands (:mod:`api.cli_store`),
``forecast`` and ``backtest`` (:mod:`api.cli_forecast`), ``forecast-batch``
(:mod:`api.cli_batch`), ``report`` (:mod:`api.cli_reports`) and ``fetch``,
``sources`` and ``refresh`` (:mod:`api.cli_sources`). The
benchmarks are not part of the product: they live in the repository's ``bench/`` folder (``python -m bench.cli``).
"""

from __future__ import annotations

import logging

import typer

from api import cli_batch, cli_forecast, cli_reports, cli_sources, cli_store

__all__ = ["app", "main"]

# Plain click help (every group sets it): typer's rich panels print a switch as "--growth <bool>",
# as if it took a value; click prints "--growth".
app = typer.Typer(
    rich_markup_mode=None,
    name="tradecast",
    help="Forecast economic time series (trade values, currency shares) with prediction intervals.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default TRADECAST_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default TRADECAST_PORT or 8000)."),
    workers: int | None = typer.Option(None, help="Worker processes (default TRADECAST_WORKERS or 1)."),
) -> None:
    """Start the REST service with uvicorn."""
    import uvicorn

    from api.settings import is_loopback, report_unknown_variables

    # Cached, not a fresh read: with one worker, uvicorn builds the app in this process and
    # create_app() then reuses these settings.
    settings = cli_store.read_settings(cached=True)
    report_unknown_variables()
    host = host or settings.api.host
    port = port or settings.api.port
    workers = workers or settings.executor.workers
    if not is_loopback(host) and not settings.keys() and not settings.api.allow_open:
        # An open forecasting service on a public interface would let anyone write series.
        typer.echo(
            f"refusing to bind {host}: no API keys are configured. Set TRADECAST_API_KEYS "
            "(e.g. 'KEY:write') or TRADECAST_ALLOW_OPEN=1 to serve without keys.",
            err=True,
        )
        raise typer.Exit(code=2)
    shown = f"[{host}]" if ":" in host else host
    auth = f"{len(settings.keys())} API key(s)" if settings.keys() else "open (no API keys)"
    typer.echo(
        f"tradecast serving on http://{shown}:{port} with {workers} worker(s), {auth}; "
        f"docs at http://{shown}:{port}/docs"
    )
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # the app logs every request itself, with its request id
        log_level=settings.logging.log_level.lower(),
    )


cli_store.register(app)
cli_forecast.register(app)
cli_batch.register(app)
cli_reports.register(app)
cli_sources.register(app)


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()
