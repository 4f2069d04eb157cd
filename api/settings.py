"""The service's one settings object (environment variables prefixed ``TRADECAST_``).

:class:`Settings` is the only place that reads the environment (and ``.env``). Its fields
are flat, because each field *is* a documented variable (``database_url`` is
``TRADECAST_DATABASE_URL``, as the README and ``.env.example`` name it); the code groups
them by area through read-only sections:

- ``settings.store``: database URL, SQLite busy timeout, upload limit, schema creation;
  handed to :class:`data.Store` and :func:`data.load_series`.
- ``settings.api``: bind address, keys, request limits, cache, batch jobs; read by the
  routes, auth and the job manager.
- ``settings.executor``: server processes, fit workers and their queue bound, report workers.
- ``settings.reports``: report directory, scheduler, backtest windows, as the plain
  :class:`~reports.options.ReportOptions` that :mod:`reports` takes.
- ``settings.logging``: level and format, for :func:`api.logs.configure_logging`.
- ``settings.delivery``: SMTP relay, webhook secret and retries of report delivery, as the
  plain :class:`~reports.delivery.DeliveryOptions` (also ``settings.reports.delivery``).
- ``settings.sources``: the official-source connectors' timeout, Comtrade key and service
  addresses, handed to :mod:`data.connectors` as a plain ``SourceOptions``.

Flat fields plus section views (rather than nested models) keep every variable name exactly
as documented without a custom environment source: pydantic-settings maps nested models to
``TRADECAST_STORE__DATABASE_URL``-style names, which would rename every variable.

``data/`` and ``reports/`` never see this object: they get plain arguments taken from a
section. An unknown ``TRADECAST_*`` variable is ignored by pydantic-settings, so
:func:`report_unknown_variables` logs it (with the closest known name) at start-up.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reports.delivery import DeliveryOptions
from reports.options import ReportOptions
from reports.store import LEASE_SECONDS, STALE_AFTER_SECONDS

if TYPE_CHECKING:
    from data import Store, UploadLimits
    from data.connectors import SourceOptions

__all__ = [
    "DEFAULT_DATABASE_URL",
    "ENV_PREFIX",
    "ApiKey",
    "ApiSection",
    "ExecutorSection",
    "LoggingSection",
    "Settings",
    "SourcesSection",
    "StoreSection",
    "UnknownVariable",
    "find_unknown_variables",
    "get_settings",
    "is_loopback",
    "parse_api_keys",
    "report_unknown_variables",
    "section_fields",
    "variable_names",
]

logger = logging.getLogger(__name__)

Scope = Literal["read", "write"]

ENV_PREFIX = "TRADECAST_"

#: The embedded default: an SQLite file under ``./var`` (relative to the working directory).
DEFAULT_DATABASE_URL = "sqlite:///var/tradecast.db"

#: Key values that look like copied examples; refused outside development.
_PLACEHOLDER_KEYS = frozenset({"changeme", "change-me", "changethis", "secret", "key", "key1", "key2", "test"})

#: ``TRADECAST_*`` variables that are not service settings: the test suite's PostgreSQL URL
#: and the benchmark scripts' data folder. They are known, so they draw no warning.
_NOT_SETTINGS = frozenset({"TRADECAST_TEST_POSTGRES_URL", "TRADECAST_DOMAIN_DIR"})

#: Old setting names: still read (the first two as TRADECAST_JOB_LEASE_SECONDS) or no longer
#: used, each with what to write instead; the service logs a warning when one is set.
_RENAMED = {
    "TRADECAST_JOB_STALE_SECONDS": "renamed TRADECAST_JOB_LEASE_SECONDS (one lease for every job); still read",
    "TRADECAST_RUN_LEASE_SECONDS": "renamed TRADECAST_JOB_LEASE_SECONDS (one lease for every job); still read",
    "TRADECAST_JOB_HEARTBEAT_SECONDS": "no longer used: every job renews its lease every third of "
    "TRADECAST_JOB_LEASE_SECONDS",
}

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ApiKey:
    """One configured key and its scope (``write`` implies ``read``)."""

    __slots__ = ("scope", "secret")

    def __init__(self, secret: str, scope: Scope) -> None:
        self.secret = secret.encode()
        self.scope: Scope = scope

    def __repr__(self) -> str:  # never show the key itself
        return f"ApiKey(scope={self.scope!r}, secret=***)"


def parse_api_keys(raw: str) -> list[ApiKey]:
    """Parse ``"key1:read,key2:write"``; a key without a scope gets ``read``.

    Raises ``ValueError`` naming the position (never the key) of a malformed entry.
    """
    keys: list[ApiKey] = []
    for pos, item in enumerate(p.strip() for p in raw.split(",")):
        if not item:
            continue
        secret, _, scope = item.rpartition(":") if ":" in item else (item, "", "read")
        scope = scope.strip().lower() or "read"
        if not secret.strip():
            raise ValueError(f"TRADECAST_API_KEYS entry #{pos + 1} has an empty key.")
        if scope not in ("read", "write"):
            # Never echo the text after ':': in a key that holds a ':' it is part of the secret.
            raise ValueError(
                f"TRADECAST_API_KEYS entry #{pos + 1} does not end with ':read' or ':write' after its last ':'; "
                "a key containing ':' needs an explicit scope (KEY:read or KEY:write)."
            )
        keys.append(ApiKey(secret.strip(), "write" if scope == "write" else "read"))
    return keys


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- sections: typed, read-only views of the flat fields ---------------------------------


@dataclass(frozen=True, slots=True)
class StoreSection:
    """What the series store and file ingest need."""

    database_url: str
    sqlite_busy_timeout_ms: int
    max_upload_bytes: int
    max_upload_columns: int
    max_upload_series: int
    max_upload_cells: int
    forecast_retention_days: int
    create_schema: bool

    def upload_limits(self) -> UploadLimits:
        """The caps on one upload's columns, series and cells, for :func:`data.load_series`."""
        from data import UploadLimits

        return UploadLimits(
            max_columns=self.max_upload_columns, max_series=self.max_upload_series, max_cells=self.max_upload_cells
        )

    def open_store(self) -> Store:
        """Open the store on :attr:`database_url` (the schema is not created here)."""
        from data import Store

        # The one place the service and the CLI open the store.
        return Store.from_url(self.database_url, busy_timeout_ms=self.sqlite_busy_timeout_ms)


@dataclass(frozen=True, slots=True)
class ApiSection:
    """The REST service: bind address, keys, request limits, cache and batch jobs."""

    env: str
    host: str
    port: int
    allow_open: bool
    api_keys: SecretStr
    default_model: str
    max_horizon: int
    max_levels: int
    max_series_length: int
    min_series_length: int
    max_body_bytes: int
    max_batch_series: int
    max_backtest_windows: int
    max_backtest_models: int
    batch_sync_limit: int
    cache_size: int
    vintage_ttl_seconds: float
    job_lease_seconds: float
    job_max_attempts: int
    gc_freeze: bool
    body_timeout_seconds: float
    max_concurrent_uploads: int


@dataclass(frozen=True, slots=True)
class ExecutorSection:
    """Processes: server workers, forecast-fitting workers, report workers."""

    workers: int
    fit_workers: int
    max_pending_fits: int
    report_jobs: int
    dask_scheduler: str | None
    warm_up: bool


@dataclass(frozen=True, slots=True)
class LoggingSection:
    """Log level and format."""

    log_level: str
    log_json: bool


@dataclass(frozen=True, slots=True)
class SourcesSection:
    """Official-source connectors (``tradecast fetch``, scheduled refreshes): timeout, keys, addresses."""

    source_timeout_seconds: float
    source_deadline_seconds: float
    comtrade_key: SecretStr
    imf_url: str
    ecb_url: str
    comtrade_url: str
    dbnomics_url: str

    def options(self) -> SourceOptions:
        """The connectors' plain options (the key unwrapped here, and only here)."""
        from data.connectors import SourceOptions

        key = self.comtrade_key.get_secret_value().strip()
        urls = {"imf": self.imf_url, "ecb": self.ecb_url, "comtrade": self.comtrade_url, "dbnomics": self.dbnomics_url}
        return SourceOptions(
            timeout_seconds=self.source_timeout_seconds,
            deadline_seconds=self.source_deadline_seconds,
            comtrade_key=key or None,
            base_urls=urls,
        )


_Section = TypeVar("_Section", StoreSection, ApiSection, ExecutorSection, LoggingSection, SourcesSection)

#: Settings field -> :class:`~reports.options.ReportOptions` field (``report_jobs`` is the
#: executor section's, shared with the report runner as its ``n_jobs``).
_REPORT_OPTIONS = {
    "report_dir": "report_dir",
    "backtest_windows": "backtest_windows",
    "report_jobs": "n_jobs",
    "dask_scheduler": "dask_scheduler",
    "run_stale_seconds": "stale_after_seconds",
    "job_lease_seconds": "lease_seconds",
    "scheduler_enabled": "scheduler_enabled",
    "scheduler_refresh_seconds": "refresh_seconds",
    "scheduler_misfire_grace_seconds": "misfire_grace_seconds",
    "schedule_seconds": "second_schedules",
}
#: Settings field -> :class:`~reports.delivery.DeliveryOptions` field (the delivery section).
_DELIVERY_OPTIONS = {
    "smtp_host": "smtp_host",
    "smtp_port": "smtp_port",
    "smtp_security": "smtp_security",
    "smtp_username": "smtp_username",
    "smtp_password": "smtp_password",
    "smtp_sender": "smtp_sender",
    "webhook_secret": "webhook_secret",
    "webhook_allow_hosts": "webhook_allow",
    "delivery_timeout_seconds": "timeout_seconds",
    "delivery_deadline_seconds": "deadline_seconds",
    "delivery_max_attempts": "max_attempts",
    "delivery_backoff_seconds": "backoff_seconds",
    "delivery_max_backoff_seconds": "max_backoff_seconds",
}


class Settings(BaseSettings):
    """Every setting of the service, read once from ``TRADECAST_*`` variables and ``.env``.

    Limits protect the service from requests that would take minutes or gigabytes; they are
    checked before any fitting starts. Read fields by section (``settings.store.database_url``)
    where a group is handed on; the flat name (``settings.max_horizon``) is the same value.
    """

    # hide_input_in_errors: a validation error must not print TRADECAST_API_KEYS back.
    # populate_by_name: a field with old names as aliases (job_lease_seconds) is still set by its own.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", hide_input_in_errors=True, populate_by_name=True
    )

    # store
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the store: an SQLite file by default, or "
        "postgresql+psycopg://user@host:5432/db.",
    )
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0, description="How long an SQLite writer waits.")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="Largest file ingest accepts.")
    max_upload_columns: int = Field(default=1_000, gt=0, description="Most columns of an uploaded table.")
    max_upload_series: int = Field(default=10_000, gt=0, description="Most series in one upload.")
    max_upload_cells: int = Field(
        default=2_000_000, gt=0, description="Most cells (rows x columns; Excel: the declared used range) per upload."
    )
    forecast_retention_days: int = Field(
        default=0,
        ge=0,
        description="Archived forecasts and report runs (with their HTML, PDF and Excel files; the latest "
        "successful run of each report stays) older than this many days are deleted (hourly by the service, "
        "and by `tradecast prune`); 0 keeps them all.",
    )
    create_schema: bool = Field(default=True, description="Create or migrate the store's tables at startup.")

    # api
    env: Literal["development", "production", "test"] = "production"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    allow_open: bool = False
    api_keys: SecretStr = SecretStr("")
    default_model: str = "auto"
    max_horizon: int = Field(default=120, ge=1, le=10_000)
    max_levels: int = Field(default=5, ge=1, le=99)
    max_series_length: int = Field(default=5_000, ge=10)
    min_series_length: int = Field(default=3, ge=1)
    max_body_bytes: int = Field(default=2_000_000, ge=1_024)
    max_batch_series: int = Field(default=1_000, ge=1)
    max_backtest_windows: int = Field(default=20, ge=1)
    max_backtest_models: int = Field(default=6, ge=1)
    batch_sync_limit: int = Field(default=8, ge=0, description="Batches with more series answer 202 with a job.")
    cache_size: int = Field(default=512, ge=0)
    vintage_ttl_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a series' vintage list is remembered for cached forecasts; a vintage "
        "saved by another process is used by forecasts this much later at most (plus one "
        "database round trip; 0: always ask).",
    )
    job_lease_seconds: float = Field(
        default=LEASE_SECONDS,
        ge=1,
        validation_alias=AliasChoices(
            "TRADECAST_JOB_LEASE_SECONDS", "TRADECAST_JOB_STALE_SECONDS", "TRADECAST_RUN_LEASE_SECONDS"
        ),
        description="Every durable job (batch or structure forecast, source refresh, report run) "
        "renews its lease every third of this; a job whose lease ended (its process died) is run "
        "again by another instance or the next start.",
    )
    job_max_attempts: int = Field(default=3, ge=1)
    gc_freeze: bool = Field(default=True, description="gc.freeze() after start-up (shorter GC pauses).")
    body_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="A request body must arrive whole within this many seconds of the first read; "
        "otherwise 408 request_timeout and the connection is closed.",
    )
    max_concurrent_uploads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Series uploads (POST /v1/series) parsed and stored at once, in their own threads; "
        "beyond, refused at once with 503 overloaded and Retry-After.",
    )

    # executor
    workers: int = Field(default=1, ge=1, le=64, description="Server (uvicorn) processes.")
    fit_workers: int = Field(
        default=2,
        ge=0,
        le=64,
        description="Worker processes for fitting; 0 fits in the calling thread under a lock (for tests and "
        "debugging: warnings capture is process-global, so concurrent request handling can race it).",
    )
    max_pending_fits: int = Field(
        default=16,
        ge=1,
        le=10_000,
        description="Most fits (forecasts, backtests, sync batches) queued or running in one server "
        "process; beyond, they are refused at once with 503 overloaded and Retry-After (cached forecasts "
        "are still served).",
    )
    report_jobs: int = Field(default=1, ge=1, le=64, description="Processes forecasting one report's series.")
    warm_up: bool = Field(
        default=True,
        description="Warm each fitting worker at start-up with small fits of 'auto' (imports, numba compilation), "
        "so the first forecast is about as fast as the next ones; GET /ready answers 503 until done. Off: ready "
        "at once, and each worker's first fit takes seconds longer.",
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="Address of a Dask scheduler (tcp://host:8786): fits, batch jobs and report series then run "
        "on that cluster instead of local worker processes. Empty: local processes.",
    )

    # reports
    report_dir: Path | None = Field(default=Path("var/reports"), description="Where run HTML files go.")
    scheduler_enabled: bool = True
    scheduler_refresh_seconds: float = Field(default=60.0, gt=0)
    scheduler_misfire_grace_seconds: int = Field(default=3600, ge=1)
    schedule_seconds: bool = Field(
        default=False,
        description="Accept six-field cron schedules (seconds first) in report definitions; for testing the "
        "scheduler only, refused unless TRADECAST_ENV is development or test. Off: five fields, a minute apart.",
    )
    backtest_windows: int = Field(default=3, ge=1)
    run_stale_seconds: float = Field(
        default=STALE_AFTER_SECONDS, gt=0, description="A running report this old is interrupted."
    )

    # delivery (of report runs: e-mail and signed webhooks)
    smtp_host: str = Field(default="", description="SMTP relay for report e-mails; empty disables e-mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="none, starttls (upgrade the connection) or tls (TLS from the start)."
    )
    smtp_username: str = Field(default="", description="SMTP login; empty sends without logging in.")
    smtp_password: SecretStr = SecretStr("")
    smtp_sender: str = Field(default="tradecast@localhost", description="From address of report e-mails.")
    webhook_secret: SecretStr = Field(
        default=SecretStr(""), description="Key of the HMAC-SHA256 signature of webhook bodies; empty: no webhooks."
    )
    webhook_allow_hosts: str = Field(
        default="",
        description="Internal webhook receivers accepted anyway, comma-separated: host names, addresses or "
        "networks (10.1.2.3, 10.1.0.0/16). Every other webhook host must resolve to public addresses only "
        "(no loopback, private, link-local, metadata...).",
    )
    delivery_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    delivery_deadline_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="A webhook delivery (all tries and waits) ends within this many seconds; it runs on its own "
        "thread, so a slow receiver never holds other report runs.",
    )
    delivery_max_attempts: int = Field(default=3, ge=1, le=10, description="Tries per channel and run.")
    delivery_backoff_seconds: float = Field(
        default=2.0, ge=0, le=300, description="Wait after the k-th failed try: this x 2^(k-1)."
    )
    delivery_max_backoff_seconds: float = Field(default=60.0, ge=0, le=3600, description="Longest wait between tries.")

    # logging
    log_level: str = "INFO"
    log_json: bool = True

    # sources
    source_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Seconds to wait for an official source (IMF, ECB, Comtrade, DBnomics)."
    )
    source_deadline_seconds: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="Seconds one fetch from an official source may take in all (connection and the whole "
        "answer); the timeout above bounds each read only.",
    )
    comtrade_key: SecretStr = Field(
        default=SecretStr(""),
        description="UN Comtrade subscription key; without one, Comtrade's public preview (500 records) is used.",
    )
    # The sources' public service roots (data.connectors.PUBLIC_URLS, kept equal by a test; not
    # imported here, because that would load the data stack for every `tradecast --help`).
    imf_url: str = Field(
        default="https://api.imf.org/external/sdmx/2.1", description="Root of the IMF's SDMX 2.1 REST service."
    )
    ecb_url: str = Field(
        default="https://data-api.ecb.europa.eu/service", description="Root of the ECB's SDMX 2.1 REST service."
    )
    comtrade_url: str = Field(
        default="https://comtradeapi.un.org",
        description="Root of the UN Comtrade API (the subscription key is sent there).",
    )
    dbnomics_url: str = Field(default="https://api.db.nomics.world/v22", description="Root of the DBnomics API.")

    @field_validator("dask_scheduler")
    @classmethod
    def _no_empty_scheduler(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("default_model")
    @classmethod
    def _model_registered(cls, value: str) -> str:
        from forecasting import list_models

        if value not in list_models() and value != "auto":
            raise ValueError(f"default_model {value!r} is not registered; choose one of {list_models()}.")
        return value

    @field_validator("webhook_allow_hosts")
    @classmethod
    def _allow_entries(cls, value: str) -> str:
        for entry in (h.strip() for h in value.split(",")):
            if entry and not re.fullmatch(r"[A-Za-z0-9.:/_-]+", entry):
                raise ValueError(f"TRADECAST_WEBHOOK_ALLOW_HOSTS entry {entry!r} is not a host, address or network.")
        return value

    @field_validator("imf_url", "ecb_url", "comtrade_url", "dbnomics_url")
    @classmethod
    def _service_root(cls, value: str, info: ValidationInfo) -> str:
        url = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?", url):
            name = ENV_PREFIX + str(info.field_name).upper()
            raise ValueError(
                f"{name} is not a service root such as https://host/path (http or https, no query, no user)."
            )
        return url

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"TRADECAST_LOG_LEVEL={value!r} is not a log level; use one of {_LOG_LEVELS}.")
        return level

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        if self.schedule_seconds and self.env == "production":
            raise ValueError(
                "TRADECAST_SCHEDULE_SECONDS=1 (per-second report schedules) is for development and tests; "
                "set TRADECAST_ENV=development or test, or leave it unset."
            )
        keys = parse_api_keys(self.api_keys.get_secret_value())
        if self.env != "development":
            for key in keys:
                if key.secret.decode().lower() in _PLACEHOLDER_KEYS or len(key.secret) < 8:
                    raise ValueError(
                        "TRADECAST_API_KEYS holds a placeholder or short key (under 8 characters); "
                        "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'` "
                        "or set TRADECAST_ENV=development."
                    )
        secret = self.webhook_secret.get_secret_value()
        if secret and self.env != "development" and (secret.lower() in _PLACEHOLDER_KEYS or len(secret) < 16):
            raise ValueError(
                "TRADECAST_WEBHOOK_SECRET is a placeholder or short (under 16 characters); generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` or set TRADECAST_ENV=development."
            )
        return self

    def keys(self) -> list[ApiKey]:
        """The configured API keys (empty: the service is open)."""
        return parse_api_keys(self.api_keys.get_secret_value())

    def _section(self, cls: type[_Section]) -> _Section:
        return cls(**{f.name: getattr(self, f.name) for f in fields(cls)})

    @property
    def store(self) -> StoreSection:
        """Store settings (database URL, busy timeout, upload limit, schema creation)."""
        return self._section(StoreSection)

    @property
    def api(self) -> ApiSection:
        """REST service settings (bind address, keys, limits, cache, batch jobs)."""
        return self._section(ApiSection)

    @property
    def executor(self) -> ExecutorSection:
        """Process counts (server workers, fit workers, report jobs)."""
        return self._section(ExecutorSection)

    @property
    def logging(self) -> LoggingSection:
        """Log level and format."""
        return self._section(LoggingSection)

    @property
    def sources(self) -> SourcesSection:
        """Official-source connectors (timeout, Comtrade key, service addresses)."""
        return self._section(SourcesSection)

    @property
    def reports(self) -> ReportOptions:
        """What the report runner and scheduler take, as :mod:`reports`' own plain options."""
        options = {option: getattr(self, name) for name, option in _REPORT_OPTIONS.items()}
        return ReportOptions(**options, delivery=self.delivery)

    @property
    def delivery(self) -> DeliveryOptions:
        """How report runs are delivered (SMTP, webhook secret, retries), as plain options."""
        values = {option: getattr(self, name) for name, option in _DELIVERY_OPTIONS.items()}
        values["webhook_allow"] = tuple(h.strip() for h in self.webhook_allow_hosts.split(",") if h.strip())
        return DeliveryOptions(**values)


def section_fields() -> dict[str, tuple[str, ...]]:
    """Each section's settings fields, in declaration order (every field in exactly one).

    ``report_jobs`` belongs to ``executor`` and ``job_lease_seconds`` to ``api``;
    ``settings.reports`` also passes them on to the report runner (``n_jobs``, ``lease_seconds``).
    """
    owned = {
        "store": StoreSection,
        "api": ApiSection,
        "executor": ExecutorSection,
        "logging": LoggingSection,
        "sources": SourcesSection,
    }
    out = {name: tuple(f.name for f in fields(cls)) for name, cls in owned.items()}
    shared = {*out["executor"], *out["api"]}
    out["reports"] = tuple(name for name in _REPORT_OPTIONS if name not in shared)
    out["delivery"] = tuple(_DELIVERY_OPTIONS)
    return out


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


# -- unknown variables ------------------------------------------------------------------


def variable_names() -> list[str]:
    """Every settings variable name (``TRADECAST_DATABASE_URL``, ...), sorted."""
    return sorted(ENV_PREFIX + name.upper() for name in Settings.model_fields)


@dataclass(frozen=True, slots=True)
class UnknownVariable:
    """A ``TRADECAST_*`` variable that no setting reads (a typo, most likely)."""

    name: str
    source: str
    suggestion: str | None
    #: For an old name, what became of it (see ``_RENAMED``).
    note: str | None = None


def find_unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = None
) -> list[UnknownVariable]:
    """The ``TRADECAST_*`` names in ``environ`` and ``env_file`` that are not settings.

    Parameters default to ``os.environ`` and the ``.env`` file :class:`Settings` reads.
    Names are compared case-insensitively, as pydantic-settings reads them. Only names are
    looked at: values may be secrets.
    """
    environ = os.environ if environ is None else environ
    if env_file is None:
        env_file = str(Settings.model_config.get("env_file") or ".env")
    known = variable_names()
    stems = [name.removeprefix(ENV_PREFIX) for name in known]
    sources: list[tuple[str, list[str]]] = [("environment", list(environ))]
    if Path(env_file).is_file():
        sources.append((str(env_file), [key for key in dotenv_values(env_file) if key]))
    found: list[UnknownVariable] = []
    for source, names in sources:
        for raw in sorted(names):
            name = raw.upper()
            if not name.startswith(ENV_PREFIX) or name in known or name in _NOT_SETTINGS:
                continue
            if name in _RENAMED:
                found.append(UnknownVariable(raw, source, None, _RENAMED[name]))
                continue
            # Compare without the shared prefix, which would make any two names look alike.
            close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), stems, n=1, cutoff=0.6)
            found.append(UnknownVariable(raw, source, ENV_PREFIX + close[0] if close else None))
    return found


#: Names already reported by this process: ``tradecast serve`` checks before uvicorn starts
#: and the app factory checks again in the same process, which should not log twice.
_reported: set[tuple[str, str]] = set()


def report_unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = None
) -> list[UnknownVariable]:
    """Log a warning for each unknown ``TRADECAST_*`` variable (see :func:`find_unknown_variables`).

    Returns every unknown variable found, including those this process already reported.
    """
    unknown = find_unknown_variables(environ, env_file)
    for item in unknown:
        if (item.name, item.source) in _reported:
            continue
        _reported.add((item.name, item.source))
        if item.note is not None:
            logger.warning("setting %s (in %s): %s", item.name, item.source, item.note, extra={"variable": item.name})
            continue
        hint = f"did you mean {item.suggestion}?" if item.suggestion else "see .env.example for the settings."
        logger.warning(
            "unknown setting %s (in %s) is ignored; %s",
            item.name,
            item.source,
            hint,
            extra={"variable": item.name, "suggestion": item.suggestion},
        )
    return unknown
