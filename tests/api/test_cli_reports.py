"""``tradecast report create|list|show|run|delete``: the same checks and records as REST."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from data import SeriesMeta, Store
from tests.api.test_reports import _annual_series
from tests.reports.delivery_servers import WEBHOOK_SECRET, http_receiver


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TRADECAST_DATABASE_URL", url)
    monkeypatch.setenv("TRADECAST_REPORT_DIR", str(tmp_path / "out"))
    store = Store.from_url(url)
    store.create_schema()
    store.series.save_series(SeriesMeta("cn_ru", frequency="annual"), _annual_series())
    store.dispose()
    yield tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, list(args))
    return result.exit_code, result.output


CREATE = ["report", "create", "cn-ru", "--series", "cn_ru", "--model", "drift", "--horizon", "3"]


def test_help_lists_forecast_and_every_report_command() -> None:
    code, output = _invoke("--help")
    assert code == 0 and re.search(r"\bforecast\b", output) and re.search(r"\breport\b", output)
    code, output = _invoke("report", "--help")
    assert code == 0
    for command in ("create", "list", "show", "run", "delete"):
        assert re.search(rf"\b{command}\b", output), command


def test_create_list_show_run_delete(cli_env: Path) -> None:
    code, output = _invoke(*CREATE, "--title", "China-Russia", "--schedule", "0 7 * * 1", "--timezone", "Europe/Moscow")
    assert code == 0 and "report cn-ru created; runs 0 7 * * 1 (Europe/Moscow)" in output, output
    code, output = _invoke("report", "list")
    assert code == 0 and re.search(r"cn-ru\s+0 7 \* \* 1 \(Europe/Moscow\)\s+0\s+never run\s+China-Russia", output)
    code, output = _invoke("report", "run", "cn-ru", "--as-of", "2024-01-15T12:00+00:00")
    assert code == 0 and "succeeded (as of 2024-01-15T12:00:00+00:00, 1 series" in output, output
    run_id = re.search(r"run ([0-9a-f]{32})", output).group(1)  # type: ignore[union-attr]
    code, output = _invoke("report", "show", "cn-ru")
    assert code == 0 and f"run {run_id}  succeeded" in output
    shown = json.loads(output[: output.index("\n}") + 2])
    assert shown["series_ids"] == ["cn_ru"] and shown["model"] == "drift" and shown["horizon"] == 3
    code, output = _invoke("report", "show", "cn-ru", "--run", run_id)
    assert code == 0 and f"run {run_id} succeeded" in output
    code, output = _invoke("report", "delete", "cn-ru", "--yes")
    assert code == 0 and "deleted" in output
    code, output = _invoke("report", "show", "cn-ru")
    assert code == 2 and "no report named 'cn-ru'" in output


@pytest.mark.parametrize(
    ("extra", "contains"),
    [
        (["--series", "nowhere"], "error (unknown_series)"),
        (["--schedule", "every monday"], "schedule must be a cron expression"),
        (["--schedule", "0 61 * * *"], "invalid cron expression"),
        (["--schedule", "0 0 30 2 *"], "error (schedule_never_fires)"),
        (["--model", "prophet"], "registered model"),
        (["--levels", "80,x"], "--levels"),
        (["--email", "not-an-address"], "delivery.emails"),
        (["--email", "a@example.org"], "TRADECAST_SMTP_HOST"),
        (["--tag", "nokey"], "KEY=VALUE"),
        (["--format", "docx"], "formats must be"),
    ],
)
def test_invalid_definitions_are_refused_at_creation(cli_env: Path, extra: list[str], contains: str) -> None:
    code, output = _invoke(*CREATE, *extra)
    assert code == 2 and contains in output, output
    assert "Traceback" not in output
    assert "no reports" in _invoke("report", "list")[1]  # nothing was stored


def test_create_from_a_json_file_with_options_on_top(cli_env: Path) -> None:
    path = cli_env / "report.json"
    path.write_text(json.dumps({"series_ids": ["cn_ru"], "model": "drift", "horizon": 2, "schedule": None}))
    code, output = _invoke("report", "create", "from-file", "--file", str(path), "--horizon", "4")
    assert code == 0 and "runs on demand" in output, output
    shown = _invoke("report", "show", "from-file", "--runs", "0")[1]
    assert json.loads(shown[: shown.index("\n}") + 2])["horizon"] == 4


def test_run_with_webhook_shows_the_delivery_log(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADECAST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("TRADECAST_WEBHOOK_ALLOW_HOSTS", "127.0.0.0/8")
    with http_receiver() as receiver:
        assert _invoke(*CREATE, "--webhook", receiver.url)[0] == 0
        code, output = _invoke("report", "run", "cn-ru", "--as-of", "2024-01-15")
    assert code == 0, output
    assert re.search(
        r"delivery webhook to http://127\.0\.0\.1:\d+/hooks/tradecast\?…: sent after 1 attempt\(s\)", output
    )
    assert len(receiver.requests) == 1 and WEBHOOK_SECRET not in output


def test_run_draws_a_progress_bar_on_stderr_only_when_asked(cli_env: Path) -> None:
    assert _invoke(*CREATE)[0] == 0
    shown = CliRunner().invoke(cli_app, ["report", "run", "cn-ru", "--as-of", "2024-01-15", "--progress"])
    assert shown.exit_code == 0, shown.output
    assert f"[{'#' * 28}] 1/1 series" in shown.stderr
    assert "1/1 series" not in shown.stdout and "succeeded (as of" in shown.stdout  # stdout stays parseable
    # Not a terminal (CliRunner's stderr) and no --progress: no bar.
    plain = CliRunner().invoke(cli_app, ["report", "run", "cn-ru", "--as-of", "2024-02-15"])
    assert plain.exit_code == 0 and "series" not in plain.stderr and "succeeded (as of" in plain.stdout


def test_progress_line_shows_failures_reruns_and_time_left() -> None:
    from datetime import UTC, datetime, timedelta

    from api.progress_bar import format_progress, wants_progress
    from data.progress_repo import Progress

    start = datetime.now(UTC) - timedelta(seconds=10)
    line = format_progress(Progress("forecast_batch", "j", 4, 1, 1, 2, start, start))
    assert line.startswith(f"[{'#' * 7}{'.' * 21}] 1/4 series, 1 failed, 2 re-run, ~")
    assert re.search(r"~(29|30|31) s left$", line), line  # 10 s for one item, three left
    assert wants_progress(True) and not wants_progress(False)
