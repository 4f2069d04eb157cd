"""Tables of the report scheduler, on the series store's SQLAlchemy metadata.

``report_definitions`` holds one row per report; ``report_runs`` one row per run. The
unique ``run_key`` (report name and the run's as-of time) is what makes each scheduled
run happen exactly once across service processes: the process whose insert commits runs
the report, any other one gets an integrity error and skips. The migration that creates
both tables is ``data/migrations/versions/0002_reports.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from data.tables import Base, UTCDateTime

__all__ = ["ReportDefinitionsTable", "ReportRunsTable"]


class ReportDefinitionsTable(Base):
    """One row per report definition; ``spec`` is the whole definition as JSON."""

    __tablename__ = "report_definitions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    schedule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportRunsTable(Base):
    """One row per run of a report, with its status, timings, errors and HTML."""

    __tablename__ = "report_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report_name: Mapped[str] = mapped_column(String(64))
    # "<name>|<as_of in UTC ISO format>": unique, so a run is claimed by one process only.
    run_key: Mapped[str] = mapped_column(String(120), unique=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_series: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index(None, "report_name", "created_at"),)
