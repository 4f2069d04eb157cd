"""Service settings (environment variables prefixed ``TRADECAST_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings", "get_settings"]


class ApiSettings(BaseSettings):
    """Settings of the REST service."""

    model_config = SettingsConfigDict(env_prefix="TRADECAST_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    allow_open: bool = False


@lru_cache
def get_settings() -> ApiSettings:
    """The process-wide settings, read once from the environment."""
    return ApiSettings()
