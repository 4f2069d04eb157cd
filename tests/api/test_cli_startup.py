"""``tradecast --help`` answers without importing the numerical or web stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "numpy", "statsmodels", "statsforecast", "sklearn", "fastapi", "sqlalchemy", "uvicorn")


def _imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return [m for m in run.stdout.strip().split(",") if m]


def test_cli_import_loads_no_heavy_module() -> None:
    assert _imported_after("import api.cli") == []


def test_help_of_every_command_loads_no_heavy_module() -> None:
    code = (
        "import contextlib, io\n"
        "from typer.testing import CliRunner\n"
        "from api.cli import app\n"
        "for args in (['--help'], ['forecast', '--help'], ['load', '--help'], ['report', 'create', '--help'],\n"
        "             ['series', 'list', '--help'], ['fetch', '--help'], ['refresh', '--help'], ['serve', '--help']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
    )
    assert _imported_after(code) == []


def test_switches_are_shown_as_flags_without_a_type() -> None:
    from typer.testing import CliRunner

    from api.cli import app

    for args, flag in ((["forecast", "--help"], "--growth"), (["load-samples", "--help"], "--if-empty")):
        out = CliRunner().invoke(app, args, terminal_width=120).output
        assert "<bool>" not in out and "BOOLEAN" not in out, out
        assert any(line.strip().startswith(f"{flag} ") for line in out.splitlines()), out
