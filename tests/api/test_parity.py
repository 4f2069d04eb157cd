"""The surfaces offer the same thing (STYLE principle 6, issue 33).

Every option of the forecasting entry point must be reachable from REST (the request
schema), the command line (``tradecast forecast``) and report definitions, or be named in
:data:`OPTIONS` with the reason it is not; every option of the backtest entry point from
``POST /v1/backtests``, ``tradecast backtest`` and report definitions (a report backtests
the model it forecasts with), or be named in :data:`BACKTEST_OPTIONS` with the reason.
Then the same input must give the same answer, or the same error code, from all three: a
plain series, the gappy annual sample series (refused by default, its latest stretch on
request) and an invalid option.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
import typer.main
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.cli_forecast import MISSING_CHOICES
from api.main import create_app
from api.schemas import BacktestCreate, ForecastCreate
from api.settings import Settings
from forecasting.exceptions import InvalidParameterError
from forecasting.fit import backtest_models, fit_forecast
from reports.definitions import MISSING_OPTIONS, ReportDefinition, check_definition
from tests.api.conftest import TestClient, assert_error, make_settings
from tests.api.test_reports import run_and_wait

#: The library call REST, the CLI and reports forecast with (the fitted-forecast object);
#: its parameters are the options checked below.
ENTRY_POINTS: tuple[Callable[..., Any], ...] = (fit_forecast,)

#: A report's series options live under this prefix of :class:`ReportDefinition`.
SERIES_OPTION = "series_options."


@dataclass(frozen=True)
class Offered:
    """Where each surface offers an option: a REST body field, a ``tradecast forecast`` option
    (``source`` for its argument), a :class:`ReportDefinition` field or ``series_options.<key>``.
    ``None`` where a surface does not, with the reason in ``why_not``."""

    rest: str | None
    cli: str | None
    report: str | None
    why_not: str = ""


_FIXED = "fixed by the service (2,000 paths, seed 0) so that a forecast is reproducible and cacheable"
_DERIVED = "derived from the series' kind (shares) and its values (no negative history: censored at zero)"

#: Every option of the entry point, and some the service adds around it, by name.
OPTIONS: dict[str, Offered] = {
    "y": Offered("series_id", "source", "series_ids"),
    "horizon": Offered("horizon", "--horizon", "horizon"),
    "levels": Offered("levels", "--levels", "levels"),
    "model": Offered("model", "--model", "model"),
    "kind": Offered("kind", "--kind", SERIES_OPTION + "kind"),
    "missing": Offered("missing", "--missing", SERIES_OPTION + "missing"),
    "X": Offered("drivers", "--drivers", SERIES_OPTION + "drivers"),
    "X_future": Offered("drivers", "--drivers", SERIES_OPTION + "drivers"),
    "drivers": Offered("drivers", "--drivers", SERIES_OPTION + "drivers"),
    "events": Offered("events", "--events", SERIES_OPTION + "events"),
    "check_breaks": Offered("check_breaks", "--check-breaks", SERIES_OPTION + "check_breaks"),
    "scenarios": Offered("scenarios", "--scenarios", SERIES_OPTION + "scenarios"),
    "driver_uncertainty": Offered("driver_uncertainty", "--driver-uncertainty", SERIES_OPTION + "driver_uncertainty"),
    "growth": Offered(
        "growth",
        "--growth",
        None,
        "a report shows growth (against a year earlier and the last complete year) whenever the history allows",
    ),
    "full_year": Offered(
        "full_year", "--full-year", None, "a report shows the full-year line of every monthly or quarterly series"
    ),
    "transform": Offered("transform", "--transform", SERIES_OPTION + "transform"),
    "n_paths": Offered(None, None, None, _FIXED),
    "seed": Offered(None, None, None, _FIXED),
    "nonnegative": Offered(None, None, None, _DERIVED),
    "extend": Offered(
        None,
        None,
        None,
        "derived from the stored drivers: one that stops before the horizon is extended by its own forecast",
    ),
    "skip_incomplete_scenarios": Offered(
        None,
        None,
        None,
        "the surface's rule for a scenario that does not cover the horizon: REST and the CLI refuse it"
        " (422 future_drivers), a report leaves it out with that error's message as its note",
    ),
}

#: The library call REST, the CLI and reports backtest with; its parameters are the options checked below.
BACKTEST_ENTRY_POINTS: tuple[Callable[..., Any], ...] = (backtest_models,)

#: Every option of the backtest entry point, by name. A report backtests the fitted forecast of each
#: series (``FittedForecast.backtest``, which calls the entry point with the section's options).
BACKTEST_OPTIONS: dict[str, Offered] = {
    "y": Offered("series_id", "source", "series_ids"),
    "horizon": Offered("horizon", "--horizon", "horizon"),
    "windows": Offered(
        "windows",
        "--windows",
        None,
        "a report backtests with the service's TRADECAST_BACKTEST_WINDOWS origins (fewer when the series is short)",
    ),
    "models": Offered("models", "--models", "model"),
    "levels": Offered("levels", "--levels", "levels"),
    "step": Offered("step", "--step", None, "a report's backtest moves its origins one period at a time (step 1)"),
    "kind": Offered("kind", "--kind", SERIES_OPTION + "kind"),
    "transform": Offered("transform", "--transform", SERIES_OPTION + "transform"),
    "drivers": Offered("drivers", "--drivers", SERIES_OPTION + "drivers"),
    "events": Offered("events", "--events", SERIES_OPTION + "events"),
    "missing": Offered("missing", "--missing", SERIES_OPTION + "missing"),
}

#: Fields of the REST request that the command line offers under another form.
CLI_FORMS = {
    "series_id": "source",
    "data": "source",  # a file: its observations go as inline data
    "frequency": "source",  # ... with the frequency the file reader found
    "as_of": "--as-of",
    "growth": "--growth",
    "full_year": "--full-year",
}


def _entry_options(entry_points: tuple[Callable[..., Any], ...] = ENTRY_POINTS) -> list[str]:
    names = [p for fn in entry_points for p in inspect.signature(fn).parameters]
    return list(dict.fromkeys(names))


def _cli_names(command_name: str = "forecast") -> set[str]:
    command = typer.main.get_command(cli_app).commands[command_name]  # type: ignore[attr-defined]
    return {name for param in command.params for name in (*param.opts, param.name)}


def _report_takes(where: str) -> bool:
    """Whether a report definition has the field, or its series options take the key (any value error but 'unknown')."""
    if not where.startswith(SERIES_OPTION):
        return where in {f.name for f in fields(ReportDefinition)}
    key = where.removeprefix(SERIES_OPTION)
    try:
        check_definition(ReportDefinition(name="p", series_ids=("a",), series_options={"a": {key: object()}}))
    except InvalidParameterError as exc:
        return "unknown option" not in str(exc)
    return True


@pytest.mark.parametrize("option", _entry_options())
def test_entry_point_option_is_offered_by_every_surface_or_excepted(option: str) -> None:
    offered = OPTIONS.get(option)
    assert offered is not None, (
        f"the entry point takes {option!r}: offer it from REST, the CLI and report definitions, "
        "or list it in OPTIONS with the reason"
    )
    missing = [surface for surface in ("rest", "cli", "report") if getattr(offered, surface) is None]
    assert not missing or offered.why_not, f"{option!r} is not offered by {missing}: say why in OPTIONS"


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_listed_option_is_reachable_where_it_is_said_to_be(option: str) -> None:
    offered = OPTIONS[option]
    if offered.rest is not None:
        assert offered.rest in ForecastCreate.model_fields, f"REST has no field {offered.rest!r}"
    if offered.cli is not None:
        assert offered.cli in _cli_names(), f"tradecast forecast has no {offered.cli}"
    if offered.report is not None:
        assert _report_takes(offered.report), f"report definitions do not take {offered.report}"


def test_every_rest_field_has_a_command_line_option() -> None:
    cli = _cli_names()
    absent = [
        name for name in ForecastCreate.model_fields if CLI_FORMS.get(name, "--" + name.replace("_", "-")) not in cli
    ]
    assert not absent, f"POST /v1/forecasts takes {absent}, which tradecast forecast does not offer"


@pytest.mark.parametrize("option", _entry_options(BACKTEST_ENTRY_POINTS))
def test_backtest_entry_point_option_is_offered_by_every_surface_or_excepted(option: str) -> None:
    offered = BACKTEST_OPTIONS.get(option)
    assert offered is not None, (
        f"the backtest entry point takes {option!r}: offer it from POST /v1/backtests, tradecast backtest and "
        "report definitions, or list it in BACKTEST_OPTIONS with the reason"
    )
    missing = [surface for surface in ("rest", "cli", "report") if getattr(offered, surface) is None]
    assert not missing or offered.why_not, f"{option!r} is not offered by {missing}: say why in BACKTEST_OPTIONS"


@pytest.mark.parametrize("option", sorted(BACKTEST_OPTIONS))
def test_listed_backtest_option_is_reachable_where_it_is_said_to_be(option: str) -> None:
    offered = BACKTEST_OPTIONS[option]
    if offered.rest is not None:
        assert offered.rest in BacktestCreate.model_fields, f"POST /v1/backtests has no field {offered.rest!r}"
    if offered.cli is not None:
        assert offered.cli in _cli_names("backtest"), f"tradecast backtest has no {offered.cli}"
    if offered.report is not None:
        assert _report_takes(offered.report), f"report definitions do not take {offered.report}"


def test_every_backtest_rest_field_has_a_command_line_option() -> None:
    cli = _cli_names("backtest")
    absent = [
        name for name in BacktestCreate.model_fields if CLI_FORMS.get(name, "--" + name.replace("_", "-")) not in cli
    ]
    assert not absent, f"POST /v1/backtests takes {absent}, which tradecast backtest does not offer"


#: The parts of REST's growth and full-year blocks, and the command-line option of each.
BLOCK_OPTIONS = {
    ("growth", "yoy"): "--no-yoy",
    ("growth", "base"): "--base",
    ("growth", "how"): "--how",
    ("full_year", "how"): "--how",
}


def test_every_part_of_the_growth_and_full_year_blocks_has_a_command_line_option() -> None:
    from api.schemas import FullYearCreate, GrowthCreate

    parts = {("growth", name) for name in GrowthCreate.model_fields}
    parts |= {("full_year", name) for name in FullYearCreate.model_fields}
    assert parts == set(BLOCK_OPTIONS), "list each part of REST's growth and full_year in BLOCK_OPTIONS"
    assert set(BLOCK_OPTIONS.values()) <= _cli_names()


def test_missing_takes_the_same_values_everywhere() -> None:
    rest = get_args(ForecastCreate.model_fields["missing"].annotation)
    assert tuple(rest) == MISSING_CHOICES == MISSING_OPTIONS
    help_text = CliRunner().invoke(cli_app, ["forecast", "--help"], terminal_width=400).stdout
    assert all(value in help_text for value in MISSING_CHOICES)


# ---------------------------------------------------------------- same input, same answer

GAPPY = "cn_ru_trade_total_annual"
SAMPLE = Path(__file__).parents[2] / "data" / "samples" / "cn_ru_trade_annual.csv"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, backtest_windows=2)


@pytest.fixture
def client(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # The command line works on the same database as the service under test.
    monkeypatch.setenv("TRADECAST_DATABASE_URL", settings.store.database_url)
    monkeypatch.setenv("TRADECAST_ENV", "test")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _monthly(n: int = 42) -> list[dict[str, Any]]:
    return [
        {"ds": f"{2020 + i // 12}-{i % 12 + 1:02d}", "y": 100.0 + 0.8 * i + 6 * (i % 12 in (5, 6))} for i in range(n)
    ]


def cli(*args: str) -> Any:
    return CliRunner().invoke(cli_app, ["forecast", *args])


def cli_json(*args: str) -> dict[str, Any]:
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    """What must agree between surfaces: everything but the archive id, the time and the source's identity."""
    return {
        k: v for k, v in body.items() if k not in ("id", "created_at", "series", "series_id", "vintage", "data_hash")
    }


def _report_forecasts(client: TestClient, name: str, series_id: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    """The forecast a report run archived for ``series_id`` (model ``ets``, horizon 3, levels 80 and 95)."""
    definition = {"name": name, "series_ids": [series_id], "horizon": 3, "model": "ets", "schedule": None}
    response = client.post("/v1/reports", json=definition | {"series_options": {series_id: options}})
    assert response.status_code == 201, response.text
    before = client.get("/v1/forecasts", params={"series_id": series_id}).json()["count"]
    record = run_and_wait(client, name, {"as_of": datetime.now(UTC).isoformat()})
    assert record["status"] == "succeeded" and record["n_failed"] == 0, record
    page = client.get("/v1/forecasts", params={"series_id": series_id, "limit": 1}).json()
    assert page["count"] == before + 1  # the newest is the report's
    return list(page["data"][0]["forecast"])


def _close(rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    return [r["ds"] for r in rows] == [r["ds"] for r in expected] and all(
        r[k] == pytest.approx(e[k], rel=1e-9) for r, e in zip(rows, expected, strict=True) for k in e if k != "ds"
    )


def test_plain_series_same_forecast_from_rest_cli_file_and_report(client: TestClient, tmp_path: Path) -> None:
    body = {"series_id": "plain", "name": "Plain", "frequency": "monthly", "data": _monthly()}
    assert client.post("/v1/series", json=body).status_code == 201
    ask = {"horizon": 3, "model": "ets", "growth": {"base": "2022", "yoy": False}, "full_year": {}}
    rest = client.post("/v1/forecasts", json={"series_id": "plain"} | ask)
    assert rest.status_code == 200, rest.text
    args = ("--horizon", "3", "--model", "ets", "--growth", "--base", "2022", "--no-yoy", "--full-year")
    stored = cli_json("plain", *args)
    assert _answer(stored) == _answer(rest.json()) and stored["series_id"] == "plain"
    assert stored["growth"]["yoy"] is None and stored["growth"]["annual"] and stored["full_year"]
    path = tmp_path / "plain.csv"
    path.write_text("ds,y\n" + "".join(f"{o['ds']},{o['y']}\n" for o in _monthly()))
    from_file = cli_json(str(path), *args)
    inline = client.post("/v1/forecasts", json={"data": _monthly(), "frequency": "monthly"} | ask).json()
    assert _answer(from_file) == _answer(inline) == _answer(stored)
    assert _close(_report_forecasts(client, "plain", "plain", {}), rest.json()["forecast"])


def test_gappy_annual_series_refused_alike_and_its_latest_stretch_alike(client: TestClient) -> None:
    assert CliRunner().invoke(cli_app, ["load", str(SAMPLE)]).exit_code == 0
    ask = {"series_id": GAPPY, "horizon": 3, "model": "ets"}
    assert_error(client.post("/v1/forecasts", json=ask), 422, "missing_values")
    refused = cli(GAPPY, "--horizon", "3", "--model", "ets")
    assert refused.exit_code == 2 and refused.stderr.startswith("error (missing_values): ")
    rest = client.post("/v1/forecasts", json=ask | {"missing": "latest_stretch"})
    assert rest.status_code == 200, rest.text
    assert [w["code"] for w in rest.json()["warnings"]][:1] == ["missing_values"]
    args = ("--horizon", "3", "--model", "ets", "--missing", "latest_stretch")
    assert _answer(cli_json(GAPPY, *args)) == _answer(rest.json())
    from_file = cli_json(str(SAMPLE), "--series", GAPPY, *args)
    assert from_file["forecast"] == rest.json()["forecast"]
    # The note names the series as each request does ('data' for inline observations).
    assert [w["code"] for w in from_file["warnings"]] == [w["code"] for w in rest.json()["warnings"]]
    report = _report_forecasts(client, "gappy", GAPPY, {"missing": "latest_stretch"})
    assert _close(report, rest.json()["forecast"])


def test_gappy_series_with_a_driver_its_latest_stretch_same_from_rest_and_report(client: TestClient) -> None:
    """The driver is stored over the latest stretch only (2013 on): both fit that stretch with the driver cut to it."""
    assert CliRunner().invoke(cli_app, ["load", str(SAMPLE)]).exit_code == 0
    data = [{"ds": str(year), "y": 50.0 + 3.0 * (year % 4) + 0.5 * (year - 2013)} for year in range(2013, 2029)]
    stored = {"series_id": "oil_usd", "name": "Oil", "frequency": "annual", "data": data}
    assert client.post("/v1/series", json=stored).status_code == 201
    ask = {"series_id": GAPPY, "horizon": 3, "model": "regression_arima", "missing": "latest_stretch"}
    rest = client.post("/v1/forecasts", json=ask | {"drivers": [{"name": "oil", "series_id": "oil_usd"}]})
    assert rest.status_code == 200, rest.text
    assert [w["code"] for w in rest.json()["warnings"]][:1] == ["missing_values"]
    options = {"missing": "latest_stretch", "model": "regression_arima", "drivers": {"oil": "oil_usd"}}
    # Run at once: a run made now is keyed to its second, and a driver stored earlier in that same second is
    # still read as stored (whole, with its assumed path over 2026-2028), not as stored after the run.
    assert _close(_report_forecasts(client, "gappy-driven", GAPPY, options), rest.json()["forecast"])


@pytest.mark.parametrize(
    ("rest_change", "cli_args", "report_change", "series_change", "code"),
    [
        ({"model": "nope"}, ["--model", "nope"], {"model": "nope"}, {"model": "nope"}, "invalid_parameter"),
        ({"missing": "fill"}, ["--missing", "fill"], None, {"missing": "fill"}, "validation_error"),
        ({"kind": "stock"}, ["--kind", "stock"], None, {"kind": "stock"}, "validation_error"),
        ({"transform": "sqrt"}, ["--transform", "sqrt"], None, {"transform": "sqrt"}, "validation_error"),
    ],
)
def test_invalid_option_same_error_code_from_every_surface(
    client: TestClient,
    rest_change: dict[str, Any],
    cli_args: list[str],
    report_change: dict[str, Any] | None,
    series_change: dict[str, Any],
    code: str,
) -> None:
    """A bad value is refused with one code by REST and the CLI, for a forecast and a report definition
    (a report's own field, or a series' option)."""
    body = {"data": _monthly(), "frequency": "monthly", "horizon": 2} | rest_change
    assert_error(client.post("/v1/forecasts", json=body), 422, code)
    folder = Path(client.app.state.settings.report_dir).parent  # type: ignore[attr-defined]
    path = folder / "series.csv"
    path.write_text("ds,y\n" + "".join(f"{o['ds']},{o['y']}\n" for o in _monthly()))
    result = cli(str(path), "--horizon", "2", *cli_args)
    assert result.exit_code == 2 and result.stderr.startswith(f"error ({code}): "), result.output
    definitions = [{"series_ids": ["a"], "schedule": None, "series_options": {"a": series_change}}]
    definitions += [{"series_ids": ["a"], "schedule": None} | report_change] if report_change is not None else []
    for definition in definitions:
        assert_error(client.post("/v1/reports", json={"name": "bad"} | definition), 422, code)
        file = folder / "report.json"
        file.write_text(json.dumps(definition))
        created = CliRunner().invoke(cli_app, ["report", "create", "bad", "--file", str(file)])
        assert created.exit_code == 2 and created.stderr.startswith(f"error ({code}): "), created.output
    assert client.get("/v1/reports").json()["count"] == 0


def test_log_transform_same_forecast_from_rest_and_report(client: TestClient) -> None:
    body = {"series_id": "plain", "name": "Plain", "frequency": "monthly", "data": _monthly()}
    assert client.post("/v1/series", json=body).status_code == 201
    ask = {"series_id": "plain", "horizon": 3, "model": "ets"}
    rest = client.post("/v1/forecasts", json=ask | {"transform": "log"})
    assert rest.status_code == 200, rest.text
    plain = client.post("/v1/forecasts", json=ask).json()["forecast"]
    assert not _close(rest.json()["forecast"], plain)  # the transform changes the answer...
    report = _report_forecasts(client, "logged", "plain", {"transform": "log"})
    assert _close(report, rest.json()["forecast"])  # ...and the report gives REST's
    archived = client.get("/v1/forecasts", params={"series_id": "plain", "limit": 1}).json()["data"][0]
    assert archived["transform"] == "log"


def test_command_line_forecasts_through_the_rest_service(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.service.forecasts import ForecastService

    calls: list[str | None] = []
    real = ForecastService.start_forecast

    def counted(self: ForecastService, request: Any, store: Any) -> Any:
        calls.append(request.source.series_id)
        return real(self, request, store)

    monkeypatch.setattr(ForecastService, "start_forecast", counted)
    body = {"series_id": "plain", "name": "Plain", "frequency": "monthly", "data": _monthly()}
    assert client.post("/v1/series", json=body).status_code == 201
    cli_json("plain", "--horizon", "2", "--model", "naive")
    assert calls == ["plain"]


def test_drivers_events_breaks_and_scenarios_same_forecast_from_rest_and_cli(
    client: TestClient, tmp_path: Path
) -> None:
    """REST's own example of a driven forecast, and the same from files on the command line."""
    example = ForecastCreate.model_json_schema()["examples"][1]
    rest = client.post("/v1/forecasts", json=example)
    assert rest.status_code == 200, rest.text
    assert rest.json()["scenarios"] and "brent_60" in rest.json()["scenarios"]
    series = tmp_path / "trade.csv"
    series.write_text("ds,y\n" + "".join(f"{o['ds']},{o['y']}\n" for o in example["data"]))
    drivers = tmp_path / "brent.csv"
    drivers.write_text("ds,brent\n" + "".join(f"{o['ds']},{o['y']}\n" for o in example["drivers"][0]["data"]))
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps(example["scenarios"]))
    args = ["--horizon", str(example["horizon"]), "--model", example["model"], "--drivers", str(drivers)]
    args += ["--events", "level_shift:2022", "--check-breaks", "--scenarios", str(scenarios)]
    assert _answer(cli_json(str(series), *args)) == _answer(rest.json())
    # A stored driver, named on the command line as NAME=SERIES_ID.
    stored = {"series_id": "brent_usd", "frequency": "annual", "data": example["drivers"][0]["data"]}
    assert client.post("/v1/series", json=stored).status_code == 201
    by_id = example | {"drivers": [{"name": "brent", "series_id": "brent_usd"}]}
    rest_by_id = client.post("/v1/forecasts", json=by_id)
    assert rest_by_id.status_code == 200, rest_by_id.text
    args[args.index(str(drivers))] = "brent=brent_usd"
    assert _answer(cli_json(str(series), *args)) == _answer(rest_by_id.json())


def test_backtest_of_the_gappy_series_same_from_rest_and_cli(client: TestClient) -> None:
    assert CliRunner().invoke(cli_app, ["load", str(SAMPLE)]).exit_code == 0
    ask = {"series_id": GAPPY, "horizon": 2, "windows": 3, "models": ["naive", "drift"]}
    assert_error(client.post("/v1/backtests", json=ask), 422, "missing_values")
    args = [GAPPY, "--horizon", "2", "--windows", "3", "--models", "naive,drift", "--format", "json"]
    refused = CliRunner().invoke(cli_app, ["backtest", *args])
    assert refused.exit_code == 2 and refused.stderr.startswith("error (missing_values): ")
    rest = client.post("/v1/backtests", json=ask | {"missing": "latest_stretch"})
    assert rest.status_code == 200, rest.text
    result = CliRunner().invoke(cli_app, ["backtest", *args, "--missing", "latest_stretch"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["best"] == rest.json()["best"] and body["best"]
    assert {m["model"]: m["mae"] for m in body["metrics"]} == pytest.approx(
        {m["model"]: m["mae"] for m in rest.json()["metrics"]}, rel=1e-9
    )
    assert [w["code"] for w in body["warnings"]] == [w["code"] for w in rest.json()["warnings"]]
