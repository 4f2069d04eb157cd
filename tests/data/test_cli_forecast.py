"""``tradecast forecast``: a stored series or a CSV file, growth and full year, three formats."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / "trade.csv"
    lines = ["ds,y"] + [f"{2020 + i // 12}-{i % 12 + 1:02d},{10 + 0.1 * i + i % 12:.2f}" for i in range(42)]
    path.write_text("\n".join(lines) + "\n")
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, ["forecast", *args])


def test_forecast_csv_file_as_table(env):
    result = run(str(env / "trade.csv"), "--horizon", "3", "--model", "naive", "--growth", "--full-year")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Forecast\n") and "2023-07" in out and "lo_95" in out
    assert "against the base year 2022 (%)" in out and "Index, 2022 = 100" in out
    assert "Full calendar year (sum)" in out and "periods_observed" in out


def test_forecast_json_matches_rest_shape(env):
    result = run(
        str(env / "trade.csv"),
        "--horizon",
        "2",
        "--model",
        "naive",
        "--growth",
        "--base",
        "2021",
        "--full-year",
        "--levels",
        "80",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [r["ds"] for r in body["forecast"]] == ["2023-07", "2023-08"]
    assert set(body["forecast"][0]) == {"ds", "mean", "lo_80", "hi_80"}
    assert body["growth"]["base"] == "2021" and body["growth"]["vs_base"][0]["ds"] == "2023"
    assert body["full_year"]["periods_observed"] == 6 and body["full_year"]["how"] == "sum"


def test_forecast_csv_format_is_one_long_table(env):
    result = run(str(env / "trade.csv"), "--horizon", "2", "--model", "naive", "--full-year", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split(",")[:3] == ["block", "ds", "mean"] and "observed" in lines[0]
    assert [line.split(",")[0] for line in lines[1:]] == ["forecast", "forecast", "full_year"]


def test_forecast_stored_series(env):
    runner = CliRunner()
    path = env / "stored.csv"
    path.write_text("unique_id,ds,y\ncn_ru," + "\ncn_ru,".join(f"{2000 + i},{50 + 3 * i}" for i in range(20)) + "\n")
    assert runner.invoke(app, ["load", str(path)]).exit_code == 0
    result = run("cn_ru", "--horizon", "2", "--model", "naive", "--growth", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["series"] == "cn_ru" and body["growth"]["base"] == "2019"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format must be one of table, csv, json"),
        (["--levels", "80,high"], "--levels must be comma-separated"),
        (["--growth", "--base", "1990"], "base='1990' is not a completely observed calendar year"),
        (["--base", "2021"], "--base and --no-yoy apply to --growth"),
        (["--full-year", "--how", "median"], "error (validation_error): invalid field 'full_year.how'"),
        (["--model", "nope"], "unknown model"),
        (["--horizon", "0"], "horizon"),
        (["--as-of", "2024-01-01"], "--as-of applies to stored series only"),
    ],
)
def test_forecast_bad_arguments_exit_2_with_a_message(env, args, message):
    # The last --model given wins, so "--model nope" overrides the fast default here.
    result = run(str(env / "trade.csv"), "--model", "naive", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_forecast_unknown_series_or_file_exit_2(env):
    missing = run("no_such_series", "--model", "naive")
    assert missing.exit_code == 2 and "error (series_not_found)" in missing.stderr
    no_file = run(str(env / "nope.csv"), "--model", "naive")
    assert no_file.exit_code == 2 and "error (file_not_found)" in no_file.stderr


def test_forecast_full_year_of_annual_series_exit_2(env):
    path = env / "annual.csv"
    path.write_text("ds,y\n" + "\n".join(f"{2000 + i},{50 + i}" for i in range(15)) + "\n")
    result = run(str(path), "--model", "naive", "--full-year")
    assert result.exit_code == 2 and "full_year needs a monthly or quarterly series" in result.stderr


def test_forecast_table_puts_the_median_headline_first(env):
    result = run(str(env / "trade.csv"), "--horizon", "3", "--model", "naive", "--growth", "--full-year")
    assert result.exit_code == 0, result.output
    block = result.stdout.split("Full calendar year (sum)")[1]
    assert "headline: median of the sample paths, mean alongside" in block
    header = block.splitlines()[1].split()
    assert header[:5] == ["observed", "periods_observed", "median", "mean", "lo_80"]
    annual = result.stdout.split("Calendar-year growth against the year before (%)")[1].splitlines()
    assert "headline: median" in annual[0] and annual[1].split()[:2] == ["median", "mean"]


def test_forecast_from_few_observations_warns_thin_evidence(env):
    path = env / "short.csv"
    path.write_text("ds,y\n" + "\n".join(f"{2015 + i},{50 + 3 * i}" for i in range(8)) + "\n")
    result = run(str(path), "--horizon", "2", "--model", "naive", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "warning (thin_evidence): " in result.stderr and "based on 8 published years" in result.stderr
    body = json.loads(result.stdout)
    assert [w["code"] for w in body["warnings"]] == ["thin_evidence"]


def test_forecast_file_with_negative_values_like_rest_inline_data(env):
    # A balance: REST takes negative inline values, so a file forecast does too (storing it needs --allow-negative).
    path = env / "balance.csv"
    path.write_text("ds,y\n" + "\n".join(f"{2005 + i},{-5 + 0.7 * i:.1f}" for i in range(15)) + "\n")
    result = run(str(path), "--horizon", "2", "--model", "naive", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [r["mean"] for r in json.loads(result.stdout)["forecast"]] == [pytest.approx(4.8), pytest.approx(4.8)]


def test_forecast_gappy_file_refused_unless_missing_says_what_to_do(env):
    path = env / "gappy.csv"
    path.write_text("ds,y\n" + "\n".join(f"{2000 + i},{50 + i}" for i in range(20) if i != 6) + "\n")
    refused = run(str(path), "--model", "naive")
    assert refused.exit_code == 2 and refused.stderr.startswith("error (missing_values): ")
    result = run(str(path), "--horizon", "2", "--model", "naive", "--missing", "latest_stretch", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [r["mean"] for r in body["forecast"]] == [69.0, 69.0] and body["warnings"][0]["code"] == "missing_values"
