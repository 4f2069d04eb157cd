"""What a report run and the report scheduler need to know, as plain arguments.

``reports`` never reads the environment: the service builds a :class:`ReportOptions` from
its settings (:attr:`api.settings.Settings.reports`) and hands it to the scheduler and the
report runner; tests and notebooks build one directly.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from forecasting.executor import use_backend
from reports.delivery import DeliveryOptions
from reports.store import LEASE_SECONDS, STALE_AFTER_SECONDS

__all__ = ["ReportOptions"]


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Options of the report runner and its scheduler.

    Attributes
    ----------
    report_dir : Path or None
        Where each run's HTML is also written as ``<report_dir>/<name>/<run_id>.html``
        (the database keeps the HTML either way); ``None`` writes no files.
    backtest_windows : int
        Rolling-origin windows used for the accuracy shown in each report.
    n_jobs : int
        Worker processes that forecast a report's series in parallel (1: none).
    stale_after_seconds : float
        A run still ``running`` this long after it started is marked failed as interrupted
        (its process stopped), so that it can be run again: the backstop of the lease.
    lease_seconds : float
        A running run renews its lease every third of this; a run whose lease expired was
        interrupted and is re-run (by the scheduler's refresh, or a new request for it).
    scheduler_enabled : bool
        Whether :func:`reports.scheduler.start_scheduler` starts a scheduler at all.
    refresh_seconds : float
        How often the scheduler re-reads report definitions from the store, so that
        definitions created through another process are picked up.
    misfire_grace_seconds : int
        How late a fire may still run while the service is up. Runs that fell due while
        the service was down are caught up once at start, whatever their age.
    delivery : DeliveryOptions
        How successful runs are sent to their definition's delivery target (SMTP relay,
        webhook secret, retries); see :mod:`reports.delivery`.
    second_schedules : bool
        Accept six-field cron schedules (seconds first): for tests of the scheduler only.
    dask_scheduler : str or None
        A Dask scheduler address: a run's series are forecast on that cluster (whatever
        ``n_jobs``) inside :meth:`backend`.
    """

    report_dir: Path | None = Path("var/reports")
    backtest_windows: int = 3
    n_jobs: int = 1
    stale_after_seconds: float = STALE_AFTER_SECONDS
    lease_seconds: float = LEASE_SECONDS
    scheduler_enabled: bool = True
    refresh_seconds: float = 60.0
    misfire_grace_seconds: int = 3600
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    dask_scheduler: str | None = None
    second_schedules: bool = False

    def backend(self) -> AbstractContextManager[None]:
        """The block in which a run fans its series out: on the Dask scheduler when one is set."""
        return use_backend("dask", scheduler=self.dask_scheduler) if self.dask_scheduler else nullcontext()
