"""tradecast's scheduled reports: HTML forecast reports with fan charts, on cron schedules.

``content`` (frames → ReportData) and ``render`` (ReportData → HTML) are pure; ``jobs``
runs a stored report definition against the series store; ``scheduler`` fires runs at
their cron times, exactly once across service processes.
"""

from __future__ import annotations

from reports.samples import SAMPLE_REPORT, ensure_sample_report

__all__ = ["SAMPLE_REPORT", "ensure_sample_report"]
