"""Report settings (environment variables prefixed ``TRADECAST_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from reports.store import STALE_AFTER_SECONDS

__all__ = ["ReportSettings", "get_settings"]


class ReportSettings(BaseSettings):
    """Settings of the report runner and its scheduler.

    Attributes
    ----------
    report_dir : Path or None
        Where each run's HTML is also written as ``<report_dir>/<name>/<run_id>.html``
        (the database keeps the HTML either way); ``None`` writes no files.
    scheduler_enabled : bool
        Whether the REST service starts the in-process scheduler.
    scheduler_refresh_seconds : float
        How often the scheduler re-reads report definitions from the store, so that
        definitions created through another process are picked up.
    scheduler_misfire_grace_seconds : int
        How late a fire may still run while the service is up. Runs that fell due while
        the service was down are caught up once at start, whatever their age.
    backtest_windows : int
        Rolling-origin windows used for the accuracy shown in each report.
    report_jobs : int
        Worker processes that forecast a report's series in parallel (1: none).
    run_stale_seconds : float
        A run still ``running`` this long after it started is marked failed as interrupted
        (its process stopped), so that it can be run again.
    """

    model_config = SettingsConfigDict(env_prefix="TRADECAST_", env_file=".env", extra="ignore")

    report_dir: Path | None = Path("var/reports")
    scheduler_enabled: bool = True
    scheduler_refresh_seconds: float = 60.0
    scheduler_misfire_grace_seconds: int = 3600
    backtest_windows: int = 3
    report_jobs: int = 1
    run_stale_seconds: float = Field(default=STALE_AFTER_SECONDS, gt=0)


@lru_cache
def get_settings() -> ReportSettings:
    """The process-wide report settings, read once from the environment."""
    return ReportSettings()
