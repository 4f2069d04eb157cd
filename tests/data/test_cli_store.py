"""``tradecast load``, ``series list|show`` and ``load-samples`` against a temp SQLite store."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def env(tmp_path, monkeypatch):
    # The CLI reads its settings afresh in every command: no cache to clear.
    monkeypatch.setenv("TRADECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def test_load_then_list_and_show(env):
    runner = CliRunner()
    path = env / "trade.csv"
    path.write_text(
        "unique_id,ds,y,flow\ncn_ru_exports,2023-01,9.3,export\ncn_ru_exports,2023-02,,export\n"
        "cn_ru_exports,2023-03,10.1,export\n"
    )
    result = runner.invoke(app, ["load", str(path), "--release", "GACC 2023-04"])
    assert result.exit_code == 0, result.output
    assert "stored 1 new vintage(s)" in result.output and "vintage   1" in result.output

    result = runner.invoke(app, ["series", "list", "--tag", "flow=export"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 series") and "cn_ru_exports" in result.output

    result = runner.invoke(app, ["series", "show", "cn_ru_exports"])
    assert result.exit_code == 0, result.output
    assert "vintage 1 of 1" in result.output and "release 'GACC 2023-04'" in result.output
    assert "2023-03    10.1" in result.output


def test_load_reports_validation_errors(env):
    path = env / "bad.csv"
    path.write_text("unique_id,ds,y\ns,2023-01,-1\n")
    result = CliRunner().invoke(app, ["load", str(path)])
    assert result.exit_code == 1
    assert "error (negative_value): line 2, column 3 (y): negative trade value -1" in result.output


def test_show_unknown_series_fails(env):
    result = CliRunner().invoke(app, ["series", "show", "nope"])
    assert result.exit_code == 1
    assert "error (series_not_found)" in result.output


def test_load_samples_if_empty(env):
    runner = CliRunner()
    first = runner.invoke(app, ["load-samples", "--if-empty"])
    assert first.exit_code == 0, first.output
    n = int(first.output.split("samples: ")[1].split()[0])
    assert n >= 20
    second = runner.invoke(app, ["load-samples"])
    assert "samples: 0 new vintage(s)" in second.output


def test_show_as_of_returns_the_earlier_vintage(env):
    import time
    from datetime import UTC, datetime

    runner = CliRunner()
    path = env / "t.csv"
    path.write_text("unique_id,ds,y\nx,2023,1.5\n")
    assert runner.invoke(app, ["load", str(path)]).exit_code == 0
    time.sleep(1.1)  # --as-of has one-second resolution
    between = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1.1)
    path.write_text("unique_id,ds,y\nx,2023,2.5\n")
    assert runner.invoke(app, ["load", str(path)]).exit_code == 0
    old = runner.invoke(app, ["series", "show", "x", "--as-of", between])
    assert old.exit_code == 0, old.output
    assert "vintage 1 of 2" in old.output and "2023       1.5" in old.output
    new = runner.invoke(app, ["series", "show", "x"])
    assert "vintage 2 of 2" in new.output and "2023       2.5" in new.output


def test_load_with_published_at_unchanged_and_diff(env):
    runner = CliRunner()
    path = env / "gacc.csv"
    path.write_text("unique_id;ds;Value (USD bn)\ngacc;2022;190,27\n")
    first = runner.invoke(app, ["load", str(path), "--published-at", "2023-01-13"])
    assert first.exit_code == 0, first.output
    assert "stored 1 new vintage(s); 0 series unchanged" in first.output
    again = runner.invoke(app, ["load", str(path), "--published-at", "2023-02-01"])
    assert "stored 0 new vintage(s); 1 series unchanged" in again.output and "unchanged" in again.output
    path.write_text("unique_id;ds;Value (USD bn)\ngacc;2022;190,3\ngacc;2023;240,11\n")
    runner.invoke(app, ["load", str(path), "--published-at", "2024-01-12"])
    shown = runner.invoke(app, ["series", "show", "gacc", "--as-of", "2023-06-01"])
    assert "published 2023-01-13T00:00:00+00:00" in shown.output and "2023 " not in shown.output.split("tags")[1]
    diff = runner.invoke(app, ["series", "diff", "gacc", "1", "2"])
    assert diff.exit_code == 0, diff.output
    lines = diff.output.splitlines()
    assert lines[0] == "gacc: vintage 1 -> 2 (ids 1 -> 2): 2 period(s) differ"
    assert lines[1].split() == ["2022", "changed", "1.9027e+11", "->", "1.903e+11"]
    assert lines[2].split() == ["2023", "added", "->", "2.4011e+11"]


def test_series_diff_unknown_vintage_fails_cleanly(env):
    runner = CliRunner()
    path = env / "a.csv"
    path.write_text("unique_id,ds,y\na,2022,1\n")
    runner.invoke(app, ["load", str(path)])
    result = runner.invoke(app, ["series", "diff", "a", "1", "9"])
    assert result.exit_code == 1 and "error (vintage_not_found)" in result.output


def test_series_diff_takes_per_series_numbers_when_ids_differ(env):
    runner = CliRunner()
    path = env / "b.csv"
    path.write_text("unique_id,ds,y\nother,2022,1\n")
    runner.invoke(app, ["load", str(path)])
    for value in ("1", "2"):
        path.write_text(f"unique_id,ds,y\nb,2022,{value}\n")
        assert runner.invoke(app, ["load", str(path)]).exit_code == 0
    result = runner.invoke(app, ["series", "diff", "b", "1", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "b: vintage 1 -> 2 (ids 2 -> 3): 1 period(s) differ"
    assert lines[1].split() == ["2022", "changed", "1", "->", "2"]


def test_load_names_a_one_series_file_by_its_series_id_option(env):
    runner = CliRunner()
    path = env / "one.csv"
    path.write_text("ds,y\n2021,5.0\n2022,6.0\n2023,7.5\n")
    refused = runner.invoke(app, ["load", str(path)])
    assert refused.exit_code == 1 and "no 'unique_id' column" in refused.output and "--series-id" in refused.output
    result = runner.invoke(app, ["load", str(path), "--series-id", "cn_ru_total", "--frequency", "annual"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["series", "show", "cn_ru_total"])
    assert shown.exit_code == 0 and "frequency annual" in shown.output and "2023       7.5" in shown.output
