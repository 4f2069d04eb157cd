"""The lab's M3 command (``python -m bench.cli``) end to end on a tiny M3-layout file."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from bench.cli import app
from bench.m3 import load_m3

runner = CliRunner()


def test_m3_command_writes_forecasts_scores_and_auto_checks(m3_files, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["m3", "--data", str(m3_files / "m3.csv.gz"), "--model", "auto", "--n-jobs", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    forecasts = pd.read_csv(out / "m3_forecasts.csv")
    assert len(forecasts) == 2 * 6 + 2 * 8
    assert set(forecasts["model"]) == {"auto"}
    scores = pd.read_csv(out / "m3_scores.csv", index_col="model")
    assert {"auto", "THETA", "ForecastPro"} <= set(scores.index)  # published file found next to --data
    checks = pd.read_csv(out / "m3_interval_checks.csv", index_col="period")
    assert list(checks.index) == ["yearly", "other", "all"]
    assert "auto's interval checks" in result.output


def test_m3_command_refuses_unknown_models_and_missing_files(m3_files, tmp_path):
    unknown = runner.invoke(app, ["m3", "--data", str(m3_files / "m3.csv.gz"), "--model", "nope"])
    assert unknown.exit_code != 0 and "unknown model" in unknown.output
    missing = runner.invoke(app, ["m3", "--data", str(tmp_path / "absent.csv.gz"), "--model", "naive2"])
    assert missing.exit_code != 0 and "does not exist" in missing.output


def test_m3_command_needs_the_data_path(tmp_path):
    # The data location belongs to the caller (the Makefile's M3_DIR), not to a default here.
    result = runner.invoke(app, ["m3", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "--data" in result.output


def test_latency_command_times_yearly_series(m3_files):
    result = runner.invoke(
        app, ["latency", "--data", str(m3_files / "m3.csv.gz"), "--model", "naive2", "--length", "20", "--count", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "naive2: 2 annual series of 20 points" in result.output


def test_load_m3_keeps_periods_and_test_parts(m3_files):
    series = load_m3(m3_files / "m3.csv.gz", periods=["other"])
    assert [s.series_id for s in series] == ["N0003", "N0004"]
    assert all(s.horizon == 8 and len(s.train) == 24 and s.season_length == 1 for s in series)
    assert series[0].train.index[0] == pd.Period(year=1, freq="Y")
