"""``tradecast bench``: accuracy and speed benchmarks."""

from __future__ import annotations

import typer

__all__ = ["register"]

bench_app = typer.Typer(help="Benchmarks: accuracy and speed on reference data.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach the ``bench`` group to the main command."""
    app.add_typer(bench_app, name="bench")


@bench_app.command("m3")
def bench_m3() -> None:
    """Score our models on the M3 competition data (work in progress)."""
    raise typer.Exit(code=2)
