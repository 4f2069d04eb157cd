"""Backtests give conclusions (issue 34, item 5): errors in the series' units, the best model
per metric, the coverage warning, and sparse series backtested with the models that take gaps."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting.core import best_models, score_backtest
from forecasting.exceptions import MissingNotSupportedError, MissingValuesError
from reports.content import build_report, compute_section
from reports.render import render_html
from tests.api.conftest import assert_error


def _sparse_annual(n: int = 30) -> pd.Series:
    t = np.arange(n, dtype=float)
    y = pd.Series(100.0 + 3.0 * t + 4.0 * np.sin(t), index=pd.period_range("1990", periods=n, freq="Y"), name="s")
    y.iloc[[4, 11, 19]] = np.nan
    return y


def test_score_backtest_gives_mae_and_rmse_in_series_units():
    y = pd.Series([10.0, 12.0, 11.0, 13.0, 14.0, 13.0], index=pd.period_range("2000", periods=6, freq="Y"))
    frame = forecasting.backtest(y, 2, 2, models=["naive"], levels=())
    windows, models = score_backtest(frame, y)
    errors = frame["y"] - frame["mean"]
    assert models.loc[0, "mae"] == pytest.approx(errors.abs().mean())
    assert models.loc[0, "rmse"] == pytest.approx(float(np.sqrt((errors**2).mean())))
    first = frame[frame["cutoff"] == frame["cutoff"].min()]
    assert windows.loc[0, "mae"] == pytest.approx((first["y"] - first["mean"]).abs().mean())


def test_best_models_ranks_errors_low_and_coverage_near_nominal():
    models = pd.DataFrame(
        {
            "model": ["a", "b"],
            "mae": [2.0, 1.0],
            "rmse": [1.0, 3.0],
            "smape": [np.nan, np.nan],
            "coverage_80": [0.5, 0.9],
        }
    )
    assert best_models(models) == {"mae": "b", "rmse": "a", "coverage_80": "b"}
    assert best_models(models.iloc[:1]) == {}


def test_sparse_series_backtest_needs_missing_model_and_a_model_that_takes_gaps():
    y = _sparse_annual()
    with pytest.raises(MissingValuesError, match="missing='model'"):
        forecasting.backtest(y, 2, 3, models=["structural"])
    with pytest.raises(MissingNotSupportedError, match="'naive' cannot fit a series with gaps"):
        forecasting.backtest(y, 2, 3, models=["naive"], missing="model")
    frame = forecasting.backtest(y, 2, 3, models=["structural"], missing="model", levels=(80,))
    windows, models = score_backtest(frame, y)
    assert len(windows) == 3 and np.isfinite(models.loc[0, "mae"])


def test_rest_backtest_names_best_model_and_units_errors(client, stored):
    body = {"series_id": stored, "horizon": 2, "windows": 3, "models": ["naive", "drift"]}
    result = client.post("/v1/backtests", json=body).json()
    metrics = {m["model"]: m for m in result["metrics"]}
    assert all(m["mae"] > 0 and m["rmse"] >= m["mae"] for m in metrics.values())
    assert result["best"]["mae"] == min(metrics, key=lambda k: metrics[k]["mae"])
    assert result["best"]["rmse"] == min(metrics, key=lambda k: metrics[k]["rmse"])
    assert set(result["best"]) >= {"mae", "rmse", "smape", "mase", "coverage_80", "coverage_95"}
    assert all("mae" in w and "rmse" in w for w in result["per_window"])
    one = client.post("/v1/backtests", json={**body, "models": ["naive"]}).json()
    assert one["best"] == {}


def test_rest_backtest_of_sparse_series_with_missing_model(client):
    y = _sparse_annual()
    data = [{"ds": str(p), "y": None if np.isnan(v) else float(v)} for p, v in y.items()]
    body = {"data": data, "frequency": "annual", "horizon": 2, "windows": 3, "models": ["structural"]}
    assert_error(client.post("/v1/backtests", json=body), 422, "missing_values", "missing")
    response = client.post("/v1/backtests", json={**body, "missing": "model"})
    assert response.status_code == 200, response.text
    assert response.json()["metrics"][0]["mae"] > 0
    refused = client.post("/v1/backtests", json={**body, "missing": "model", "models": ["naive"]})
    assert refused.status_code == 422


def test_report_accuracy_shows_mae_rmse_and_coverage_warning():
    y = pd.Series(10.0 + 5.0 * np.arange(30), index=pd.period_range("1990", periods=30, freq="Y"), name="s")
    section = compute_section("s", y, horizon=3, levels=(80,), model="naive", backtest_windows=3, unit="USD")
    # A line rising 5 a year: naive misses by 5, 10 and 15 at steps 1-3 of every window.
    assert section.accuracy is not None and section.accuracy.mae == pytest.approx(10.0)
    assert section.accuracy.rmse == pytest.approx(np.sqrt((25 + 100 + 225) / 3))
    assert "backtest_coverage" in {w.code for w in section.warnings}
    html = _render(section)
    assert "<th>MAE (USD)</th><th>RMSE (USD)</th>" in html
    assert 'data-code="backtest_coverage"' in html


def test_report_backtests_a_sparse_series_with_missing_model():
    section = compute_section(
        "s", _sparse_annual(), horizon=2, levels=(80,), model="structural", backtest_windows=2, missing="model"
    )
    assert section.accuracy is not None and np.isfinite(section.accuracy.mae)


def _render(section):
    report = build_report(
        name="r",
        title="R",
        sections=[section],
        as_of=datetime(2024, 1, 1, tzinfo=UTC),
        generated_at=datetime(2024, 1, 1, 12, 0, tzinfo=UTC),
        horizon=3,
        levels=(80,),
        model="naive",
    )
    return render_html(report)


def test_cli_backtest_prints_units_errors_best_model_and_coverage_warning(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("TRADECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / "line.csv"
    path.write_text("ds,y\n" + "".join(f"{1990 + i},{10 + 5 * i}\n" for i in range(30)))
    runner = CliRunner()
    result = runner.invoke(app, ["backtest", str(path), "--models", "naive,drift", "--windows", "3"])
    assert result.exit_code == 0, result.output
    assert "MAE and RMSE in the series' units" in result.output and "Best model: mae drift" in result.output
    assert "warning (backtest_coverage): backtest of 'naive'" in result.output
    as_json = json.loads(runner.invoke(app, ["backtest", str(path), "--models", "naive", "--format", "json"]).stdout)
    assert as_json["metrics"][0]["mae"] == pytest.approx(10.0) and as_json["best"] == {}
