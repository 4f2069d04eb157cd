"""The ``tradecast`` command line.

Each group of commands lives in its own module and registers itself here, so the command
tree is explicit: ``serve`` (this module), ``bench`` (:mod:`api.cli_bench`).
"""

from __future__ import annotations

import logging

import typer

from api import cli_bench

__all__ = ["app", "main"]

app = typer.Typer(
    name="tradecast",
    help="Forecast economic time series (trade values, currency shares) with prediction intervals.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default TRADECAST_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default TRADECAST_PORT or 8000)."),
) -> None:
    """Start the REST service with uvicorn."""
    import uvicorn

    from api.config import get_settings

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    typer.echo(f"tradecast serving on http://{host}:{port}  (docs at http://{host}:{port}/docs)")
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port)


cli_bench.register(app)


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()
