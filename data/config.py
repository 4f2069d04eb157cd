"""TRANSITIONAL: the upload size limit of :func:`data.load_series`, until ingest takes it as an argument.

Nothing in the store reads this module any more (``Store.from_url`` takes the URL and the
busy timeout as arguments). Only ``data/ingest.py`` still calls :func:`get_settings` for its
default ``max_bytes``; delete this module when ingest uses ``DEFAULT_MAX_UPLOAD_BYTES``
and the service passes ``max_bytes`` from its own settings.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "get_settings"]

#: Largest file :func:`data.load_series` accepts by default (50 MiB).
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class _UploadSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADECAST_", env_file=".env", extra="ignore")

    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)


@lru_cache
def get_settings() -> _UploadSettings:
    """The upload limit, read once from ``TRADECAST_MAX_UPLOAD_BYTES``."""
    return _UploadSettings()
