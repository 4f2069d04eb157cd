"""The one settings object: sections, ``.env.example`` kept complete, unknown variables reported."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values
from pydantic import ValidationError
from typer.testing import CliRunner

from api import settings as settings_module
from api.cli import app as cli_app
from api.deps import get_app_settings
from api.main import create_app
from api.settings import (
    DEFAULT_DATABASE_URL,
    Settings,
    find_unknown_variables,
    get_settings,
    report_unknown_variables,
    section_fields,
    variable_names,
)
from reports.options import ReportOptions
from reports.store import STALE_AFTER_SECONDS
from tests.api.conftest import TestClient, make_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TRADECAST_* variable set, no .env in the working directory, nothing reported yet."""
    for name in list(os.environ):
        if name.upper().startswith("TRADECAST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings_module, "_reported", set())
    return tmp_path


@pytest.fixture
def warnings_of_settings() -> Iterator[list[logging.LogRecord]]:
    """Records logged by api.settings (a handler of its own: create_app replaces the root's)."""
    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = _Keep(level=logging.WARNING)
    logger = logging.getLogger("api.settings")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def _example_sections() -> dict[str, list[str]]:
    """``.env.example`` variables under each ``# --- <section>`` header."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        header = re.match(r"# --- (\w+) ", line)
        if header:
            current = header.group(1)
        elif line and not line.startswith("#"):
            sections.setdefault(current, []).append(line.split("=", 1)[0])
    return sections


# -- .env.example ------------------------------------------------------------------------


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed = [name for name in dotenv_values(ENV_EXAMPLE) if name]
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    assert sorted(listed) == variable_names()


def test_env_example_values_are_the_defaults(clean_env: Path) -> None:
    from_file = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_file.model_dump() == defaults.model_dump()


def test_env_example_groups_variables_by_section() -> None:
    expected = {name: sorted(f"TRADECAST_{f.upper()}" for f in names) for name, names in section_fields().items()}
    assert {name: sorted(names) for name, names in _example_sections().items()} == expected


# -- sections ----------------------------------------------------------------------------


def test_every_setting_belongs_to_exactly_one_section() -> None:
    names = [name for names in section_fields().values() for name in names]
    assert len(names) == len(set(names))
    assert set(names) == set(Settings.model_fields)


def test_sections_read_the_flat_fields(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, max_horizon=7, fit_workers=3, report_jobs=2, log_level="debug", run_stale_seconds=60
    )
    assert settings.store.database_url == settings.database_url == f"sqlite:///{tmp_path / 'api.db'}"
    assert settings.api.max_horizon == 7 and settings.executor.fit_workers == 3
    assert settings.logging.log_level == "DEBUG"
    assert settings.reports == ReportOptions(
        report_dir=tmp_path / "reports",
        backtest_windows=3,
        n_jobs=2,
        stale_after_seconds=60,
        lease_seconds=1.0,  # TRADECAST_JOB_LEASE_SECONDS: one lease for report runs and jobs
        scheduler_enabled=False,
        refresh_seconds=60,
        misfire_grace_seconds=3600,
    )


def test_variable_names_are_unchanged(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADECAST_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("TRADECAST_MAX_HORIZON", "12")
    monkeypatch.setenv("TRADECAST_REPORT_DIR", "out/reports")
    monkeypatch.setenv("TRADECAST_REPORT_JOBS", "2")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.store.database_url == "sqlite:///elsewhere.db"
    assert settings.api.max_horizon == 12
    assert settings.reports.report_dir == Path("out/reports") and settings.reports.n_jobs == 2


def test_database_url_has_one_default(clean_env: Path) -> None:
    assert Settings(_env_file=None).store.database_url == DEFAULT_DATABASE_URL  # type: ignore[call-arg]


def test_env_file_is_read_from_the_working_directory(clean_env: Path) -> None:
    (clean_env / ".env").write_text("TRADECAST_MAX_LEVELS=3\n")
    assert Settings().max_levels == 3


def test_report_stale_limit_must_be_positive(clean_env: Path) -> None:
    assert Settings(_env_file=None).reports.stale_after_seconds == STALE_AFTER_SECONDS  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="run_stale_seconds"):
        Settings(_env_file=None, run_stale_seconds=0)  # type: ignore[call-arg]


def test_log_level_is_normalised_and_checked() -> None:
    assert Settings(_env_file=None, log_level=" warning").log_level == "WARNING"  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="TRADECAST_LOG_LEVEL"):
        Settings(_env_file=None, log_level="loud")  # type: ignore[call-arg]


def test_api_keys_are_secret_in_repr_and_dump(clean_env: Path) -> None:
    key = "abcdefgh-0123456789"
    settings = Settings(_env_file=None, api_keys=f"{key}:write")  # type: ignore[call-arg]
    assert key not in repr(settings) and key not in str(settings.model_dump())
    assert key not in repr(settings.api) and key not in settings.model_dump_json()
    assert settings.keys()[0].scope == "write"


def test_get_settings_is_read_once_until_cleared(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("TRADECAST_MAX_HORIZON", "11")
        first = get_settings()
        monkeypatch.setenv("TRADECAST_MAX_HORIZON", "12")
        assert get_settings() is first and first.max_horizon == 11
        get_settings.cache_clear()
        assert get_settings().max_horizon == 12
    finally:
        get_settings.cache_clear()


# -- the app and its settings ------------------------------------------------------------


def test_create_app_opens_its_store_at_the_settings_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    app = create_app(make_settings(tmp_path, database_url=url))
    try:
        assert app.state.store.url == url
    finally:
        app.state.store.dispose()


def test_settings_dependency_can_be_overridden(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    app.dependency_overrides[get_app_settings] = lambda: make_settings(tmp_path, default_model="drift")
    with TestClient(app) as client:
        models = client.get("/v1/models").json()["data"]
    assert [m["name"] for m in models if m["is_default"]] == ["drift"]


def test_series_upload_limit_comes_from_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_bytes=40)
    csv = b"unique_id,ds,y\n" + b"".join(b"s,20%02d,%d\n" % (i, i) for i in range(10))
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/series", files={"file": ("s.csv", csv, "text/csv")})
    assert response.status_code == 422, response.text
    assert "40" in response.json()["error"]["message"]


# -- unknown variables -------------------------------------------------------------------


def test_unknown_variable_is_found_with_the_closest_name(tmp_path: Path) -> None:
    found = find_unknown_variables({"TRADECAST_MAX_HORIZN": "5", "HOME": "/"}, tmp_path / "missing.env")
    assert [(u.name, u.source, u.suggestion) for u in found] == [
        ("TRADECAST_MAX_HORIZN", "environment", "TRADECAST_MAX_HORIZON")
    ]


def test_unknown_variable_in_env_file_is_found(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TRADECAST_REPORTDIR=out\nTRADECAST_PORT=8001\n")
    found = find_unknown_variables({}, env_file)
    assert [(u.name, u.source, u.suggestion) for u in found] == [
        ("TRADECAST_REPORTDIR", str(env_file), "TRADECAST_REPORT_DIR")
    ]


def test_known_and_non_setting_variables_are_not_reported(tmp_path: Path) -> None:
    environ = {
        "TRADECAST_MAX_HORIZON": "5",
        "tradecast_log_level": "INFO",  # read case-insensitively, as pydantic-settings does
        "TRADECAST_TEST_POSTGRES_URL": "postgresql://x",
        "TRADECAST_DOMAIN_DIR": "data",
        "PATH": "/bin",
    }
    assert find_unknown_variables(environ, tmp_path / "missing.env") == []


def test_unknown_variable_without_close_name_points_to_the_example(
    tmp_path: Path, warnings_of_settings: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "_reported", set())
    found = report_unknown_variables({"TRADECAST_ZZZ": "1"}, tmp_path / "missing.env")
    assert found[0].suggestion is None
    assert [r.getMessage() for r in warnings_of_settings] == [
        "unknown setting TRADECAST_ZZZ (in environment) is ignored; see .env.example for the settings."
    ]


def test_unknown_variable_warning_names_but_never_shows_the_value(
    tmp_path: Path, warnings_of_settings: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "_reported", set())
    report_unknown_variables({"TRADECAST_API_KEY": "s3cret-key-value:write"}, tmp_path / "missing.env")
    report_unknown_variables({"TRADECAST_API_KEY": "s3cret-key-value:write"}, tmp_path / "missing.env")
    assert len(warnings_of_settings) == 1, "reported once per process"
    message = warnings_of_settings[0].getMessage()
    assert "TRADECAST_API_KEY " in message and "did you mean TRADECAST_API_KEYS?" in message
    assert "s3cret" not in message and "s3cret" not in str(vars(warnings_of_settings[0]))


def test_create_app_reports_unknown_variable(
    clean_env: Path, warnings_of_settings: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECAST_MAX_HORIZN", "5")
    (clean_env / ".env").write_text("TRADECAST_FIT_WORKRS=1\n")
    app = create_app(make_settings(clean_env))
    app.state.store.dispose()
    messages = [r.getMessage() for r in warnings_of_settings]
    assert any("TRADECAST_MAX_HORIZN" in m and "did you mean TRADECAST_MAX_HORIZON?" in m for m in messages)
    assert any("TRADECAST_FIT_WORKRS (in .env)" in m and "TRADECAST_FIT_WORKERS" in m for m in messages)


def test_serve_reports_unknown_variable_at_start(
    clean_env: Path, warnings_of_settings: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECAST_PROT", "8001")
    get_settings.cache_clear()
    try:
        # A public bind without keys stops before uvicorn starts: the check ran first.
        result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert [r.getMessage() for r in warnings_of_settings] == [
        "unknown setting TRADECAST_PROT (in environment) is ignored; did you mean TRADECAST_PORT?"
    ]


def test_cli_refuses_invalid_settings_without_traceback_or_key(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECAST_DATABASE_URL", f"sqlite:///{clean_env / 'cli.db'}")
    monkeypatch.setenv("TRADECAST_API_KEYS", "changeme:write")
    for command in (["series", "list"], ["report", "list"]):
        result = CliRunner().invoke(cli_app, command)
        assert result.exit_code == 2, result.output
        assert "error (invalid_settings)" in result.output and "placeholder" in result.output
        assert "changeme" not in result.output and "Traceback" not in result.output
    monkeypatch.setenv("TRADECAST_ENV", "development")
    assert CliRunner().invoke(cli_app, ["series", "list"]).exit_code == 0


def test_upload_caps_are_settings_listed_in_env_example_with_the_library_defaults(clean_env: Path) -> None:
    from data import UploadLimits

    listed = dotenv_values(ENV_EXAMPLE)
    caps = Settings(_env_file=ENV_EXAMPLE).store.upload_limits()  # type: ignore[call-arg]
    assert caps == UploadLimits()  # the service and the library agree on the defaults
    assert listed["TRADECAST_MAX_UPLOAD_COLUMNS"] == str(caps.max_columns)
    assert listed["TRADECAST_MAX_UPLOAD_SERIES"] == str(caps.max_series)
    assert listed["TRADECAST_MAX_UPLOAD_CELLS"] == str(caps.max_cells)
    tight = make_settings(clean_env, max_upload_columns=5, max_upload_series=6, max_upload_cells=7)
    assert tight.store.upload_limits() == UploadLimits(max_columns=5, max_series=6, max_cells=7)


# -- official sources' service roots ------------------------------------------------------


def test_source_url_defaults_are_the_connectors_public_addresses(tmp_path: Path) -> None:
    from data.connectors.registry import PUBLIC_URLS

    options = make_settings(tmp_path).sources.options()
    assert {name: options.base_url(name) for name in PUBLIC_URLS} == PUBLIC_URLS


def test_source_urls_reach_the_connector_options(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, dbnomics_url="http://127.0.0.1:8123/api.db.nomics.world/v22/")
    options = settings.sources.options()
    assert options.base_url("dbnomics") == "http://127.0.0.1:8123/api.db.nomics.world/v22"
    assert options.base_url("imf") == "https://api.imf.org/external/sdmx/2.1"


@pytest.mark.parametrize(
    "value", ["ftp://mirror.example/imf", "api.imf.org", "https://user:pw@mirror.example/imf", "https://m.example/?q=1"]
)
def test_source_url_that_is_not_a_service_root_is_refused_naming_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValidationError, match="TRADECAST_IMF_URL is not a service root") as caught:
        make_settings(tmp_path, imf_url=value)
    assert "pw@" not in str(caught.value).split("input_value")[0]


def test_old_lease_settings_are_still_read_and_named_as_renamed(
    clean_env: Path, warnings_of_settings: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "_reported", set())
    for old in ("TRADECAST_JOB_STALE_SECONDS", "TRADECAST_RUN_LEASE_SECONDS"):
        assert Settings(_env_file=None, **{old: "17"}).job_lease_seconds == 17  # type: ignore[arg-type]
        monkeypatch.setenv(old, "12")
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.job_lease_seconds == settings.reports.lease_seconds == 12
        monkeypatch.delenv(old)
    monkeypatch.setenv("TRADECAST_JOB_LEASE_SECONDS", "9")
    assert Settings(_env_file=None).job_lease_seconds == 9  # type: ignore[call-arg]
    environ = {"TRADECAST_JOB_STALE_SECONDS": "3", "TRADECAST_JOB_HEARTBEAT_SECONDS": "1"}
    found = report_unknown_variables(environ, clean_env / "missing.env")
    assert {f.name for f in found} == set(environ) and all(f.note for f in found)
    messages = sorted(r.getMessage() for r in warnings_of_settings)
    assert "TRADECAST_JOB_HEARTBEAT_SECONDS (in environment): no longer used" in messages[0]
    assert "renamed TRADECAST_JOB_LEASE_SECONDS" in messages[1] and "still read" in messages[1]
