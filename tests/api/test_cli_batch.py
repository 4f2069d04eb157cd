"""``tradecast forecast-batch``: many series as POST /v1/forecasts/batch, a progress bar, partial and failed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.main import create_app
from data import SeriesMeta, Store
from tests.api.conftest import TestClient, annual, make_settings

BAR = f"[{'#' * 28}]"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store (the one make_settings(tmp_path) opens) holding two annual series and a too-short one."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    monkeypatch.setenv("TRADECAST_DATABASE_URL", url)
    store = Store.from_url(url)
    store.create_schema()
    for series_id, base in (("aa", 50.0), ("bb", 80.0)):
        y = pd.Series([base + 3 * i + i % 3 for i in range(20)], index=pd.period_range("2000", periods=20, freq="Y"))
        store.series.save_series(SeriesMeta(series_id, frequency="annual"), y)
    short = pd.Series([5.0, 6.0], index=pd.period_range("2018", periods=2, freq="Y"))
    store.series.save_series(SeriesMeta("short", frequency="annual"), short)
    store.dispose()
    yield tmp_path


def batch(*args: str):
    return CliRunner().invoke(cli_app, ["forecast-batch", *args])


def test_stored_series_as_tables_with_a_progress_bar_on_stderr(cli_env: Path) -> None:
    result = batch("--series", "aa", "--series", "bb", "--horizon", "2", "--model", "naive", "--progress")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("== aa (naive) ==\nForecast\n") and "== bb (naive) ==" in result.stdout
    assert result.stdout.count("2020") == 2 and "lo_95" in result.stdout
    assert f"{BAR} 2/2 series" in result.stderr and "series" not in result.stdout.replace("==", "")
    assert "batch succeeded: 2 of 2 series forecast, 0 failed" in result.stderr
    # Not a terminal (CliRunner's stderr) and no --progress: no bar.
    plain = batch("--series", "aa", "--horizon", "2", "--model", "naive")
    assert plain.exit_code == 0 and BAR not in plain.stderr and "1/1 series" not in plain.stderr


def test_a_failed_series_makes_the_batch_partial_and_is_printed(cli_env: Path) -> None:
    result = batch("--all", "--horizon", "2", "--model", "naive", "--format", "json", "--progress")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "partial" and body["count"] == 3 and body["failed"] == 1
    assert [(item["unique_id"], item["status"]) for item in body["data"]] == [
        ("aa", "ok"),
        ("bb", "ok"),
        ("short", "error"),
    ]
    assert body["data"][2]["error"]["code"] == "insufficient_data"
    assert "3/3 series, 1 failed" in result.stderr
    assert "failed short: error (insufficient_data): " in result.stderr
    assert "batch partial: 2 of 3 series forecast, 1 failed" in result.stderr


def test_every_series_failed_exits_1_with_a_clear_message(cli_env: Path) -> None:
    result = batch("--series", "short", "--horizon", "2", "--model", "naive")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "failed short: error (insufficient_data)" in result.stderr
    assert "batch failed: 0 of 1 series forecast, 1 failed" in result.stderr


def test_csv_is_one_long_table_with_a_series_column(cli_env: Path) -> None:
    result = batch("--series", "bb", "--series", "aa", "--horizon", "2", "--model", "naive", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split(",")[:4] == ["series", "block", "ds", "mean"]
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["bb", "forecast", "2020"],
        ["bb", "forecast", "2021"],
        ["aa", "forecast", "2020"],
        ["aa", "forecast", "2021"],
    ]


def test_forecasts_equal_rest_batch_answer_and_are_archived(cli_env: Path) -> None:
    result = batch("--series", "aa", "--series", "bb", "--horizon", "3", "--model", "drift", "--format", "json")
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    with TestClient(create_app(make_settings(cli_env))) as client:
        body = {"series": [{"series_id": "aa"}, {"series_id": "bb"}], "horizon": 3, "model": "drift"}
        rest = client.post("/v1/forecasts/batch", json=body).json()
        archived = client.get("/v1/forecasts", params={"series_id": "aa"}).json()
    for mine, theirs in zip(cli["data"], rest["data"], strict=True):
        assert mine["forecast"]["forecast"] == theirs["forecast"]["forecast"]
    assert cli["data"][0]["forecast"]["id"] in {record["id"] for record in archived["data"]}


def test_file_holds_the_rest_body_and_options_given_replace_its_settings(cli_env: Path) -> None:
    path = cli_env / "batch.json"
    body = {
        "series": [{"series_id": "aa"}, {"unique_id": "inline", "data": annual(12), "frequency": "annual"}],
        "horizon": 4,
        "model": "naive",
    }
    path.write_text(json.dumps(body))
    result = batch("--file", str(path), "--horizon", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "succeeded" and [item["unique_id"] for item in out["data"]] == ["aa", "inline"]
    assert [len(item["forecast"]["forecast"]) for item in out["data"]] == [2, 2]  # --horizon replaced 4
    assert {item["forecast"]["model"] for item in out["data"]} == {"naive"}  # the file's model kept
    refused = batch("--file", str(path), "--missing", "model")
    assert refused.exit_code == 2 and "error (invalid_argument): --missing: with --file" in refused.stderr


@pytest.mark.parametrize(
    ("args", "body", "code"),
    [
        (["--levels", "120"], {"levels": [120]}, "validation_error"),
        (["--missing", "fill"], {"missing": "fill"}, "validation_error"),
        (["--model", "nope"], {"model": "nope"}, "invalid_parameter"),
        (["--horizon", "0"], {"horizon": 0}, "validation_error"),
    ],
)
def test_bad_options_are_refused_with_the_rest_code(cli_env: Path, args: list[str], body: dict, code: str) -> None:
    result = batch("--series", "aa", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error ({code}): "), result.stderr
    rest_body = {"series": [{"series_id": "aa"}], "horizon": 2}
    item_fields = {"missing"}
    for key, value in body.items():
        if key in item_fields:
            rest_body["series"][0][key] = value
        else:
            rest_body[key] = value
    with TestClient(create_app(make_settings(cli_env))) as client:
        response = client.post("/v1/forecasts/batch", json=rest_body)
    assert response.status_code == 422 and response.json()["error"]["code"] == code


def test_no_series_named_and_unknown_series_are_refused(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    none = batch("--horizon", "2")
    assert none.exit_code == 2 and "name the series: --series ID" in none.stderr
    unknown = batch("--series", "nope", "--horizon", "2", "--model", "naive")
    assert unknown.exit_code == 1 and "failed nope: error (series_not_found)" in unknown.stderr
    monkeypatch.setenv("TRADECAST_MAX_BATCH_SERIES", "1")
    too_many = batch("--all", "--horizon", "2")
    assert too_many.exit_code == 2 and "error (invalid_parameter): the batch has 3 series" in too_many.stderr


def test_a_series_lost_with_its_worker_is_run_again_and_counted_on_the_bar(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import Future

    from forecasting.exceptions import WorkerLostError
    from forecasting.executor import InProcessExecutor, TaskResult

    real = InProcessExecutor.submit
    calls = []

    def submit(self, fn, *args, **kwargs):
        calls.append(fn)
        if len(calls) == 1:
            lost: Future = Future()
            lost.set_result(TaskResult(error=WorkerLostError("a worker process died while running this task.")))
            return lost
        return real(self, fn, *args, **kwargs)

    monkeypatch.setattr(InProcessExecutor, "submit", submit)
    result = batch("--series", "aa", "--series", "bb", "--horizon", "2", "--model", "naive", "--progress")
    assert result.exit_code == 0, result.output
    assert len(calls) == 3
    assert f"{BAR} 2/2 series, 1 re-run" in result.stderr and "batch succeeded" in result.stderr
