"""Service settings (environment variables prefixed ``TRADECAST_``)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiKey", "ApiSettings", "get_settings", "is_loopback", "parse_api_keys"]

Scope = Literal["read", "write"]

#: Key values that look like copied examples; refused outside development.
_PLACEHOLDER_KEYS = frozenset({"changeme", "change-me", "changethis", "secret", "key", "key1", "key2", "test"})


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
            raise ValueError(f"TRADECAST_API_KEYS entry #{pos + 1} has scope {scope!r}; use 'read' or 'write'.")
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


class ApiSettings(BaseSettings):
    """Settings of the REST service.

    Limits protect the service from requests that would take minutes or gigabytes; they are
    checked before any fitting starts.
    """

    # hide_input_in_errors: a validation error must not print TRADECAST_API_KEYS back.
    model_config = SettingsConfigDict(
        env_prefix="TRADECAST_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["development", "production", "test"] = "production"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
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
    fit_workers: int = Field(
        default=2,
        ge=0,
        le=64,
        description="Worker processes for fitting; 0 fits in the calling thread under a lock (for tests and "
        "debugging: warnings capture is process-global, so concurrent request handling can race it).",
    )
    job_heartbeat_seconds: float = Field(default=5.0, gt=0)
    job_stale_seconds: float = Field(default=30.0, gt=0, description="A job not heart-beaten this long is recovered.")
    job_max_attempts: int = Field(default=3, ge=1)
    create_schema: bool = Field(default=True, description="Create or migrate the store's tables at startup.")
    cache_size: int = Field(default=512, ge=0)
    vintage_ttl_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a series' vintage list is remembered for cached forecasts; a vintage "
        "saved by another process is used by forecasts this much later at most (plus one "
        "database round trip; 0: always ask).",
    )
    database_url: str | None = Field(
        default=None, description="Store URL; None uses the store's own default (TRADECAST_DATABASE_URL)."
    )
    gc_freeze: bool = Field(default=True, description="gc.freeze() after start-up (shorter GC pauses).")
    log_json: bool = True
    log_level: str = "INFO"

    @field_validator("default_model")
    @classmethod
    def _model_registered(cls, value: str) -> str:
        from forecasting import list_models

        if value not in list_models() and value != "auto":
            raise ValueError(f"default_model {value!r} is not registered; choose one of {list_models()}.")
        return value

    @model_validator(mode="after")
    def _check_keys(self) -> ApiSettings:
        keys = parse_api_keys(self.api_keys.get_secret_value())
        if self.env != "development":
            for key in keys:
                if key.secret.decode().lower() in _PLACEHOLDER_KEYS or len(key.secret) < 8:
                    raise ValueError(
                        "TRADECAST_API_KEYS holds a placeholder or short key (under 8 characters); "
                        "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'` "
                        "or set TRADECAST_ENV=development."
                    )
        return self

    def keys(self) -> list[ApiKey]:
        """The configured API keys (empty: the service is open)."""
        return parse_api_keys(self.api_keys.get_secret_value())


@lru_cache
def get_settings() -> ApiSettings:
    """The process-wide settings, read once from the environment."""
    return ApiSettings()
