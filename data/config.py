"""Storage settings (environment variables prefixed ``TRADECAST_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "StorageSettings", "get_settings"]

#: The embedded default: an SQLite file under ``./var`` (relative to the working directory).
DEFAULT_DATABASE_URL = "sqlite:///var/tradecast.db"


class StorageSettings(BaseSettings):
    """Settings of the series store.

    Attributes
    ----------
    database_url : str
        SQLAlchemy URL (``TRADECAST_DATABASE_URL``). SQLite file by default; use
        ``postgresql+psycopg://user@host:5432/db`` for PostgreSQL.
    max_upload_bytes : int
        Largest file :func:`data.load_series` accepts (``TRADECAST_MAX_UPLOAD_BYTES``).
    sqlite_busy_timeout_ms : int
        How long an SQLite writer waits for the lock before failing.
    sample_dir : Path
        Where the bundled sample CSV files live.
    """

    model_config = SettingsConfigDict(env_prefix="TRADECAST_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    sample_dir: Path = Path(__file__).resolve().parent / "samples"


@lru_cache
def get_settings() -> StorageSettings:
    """The process-wide storage settings, read once from the environment."""
    return StorageSettings()
