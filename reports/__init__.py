"""tradecast's scheduled reports: forecast reports (HTML, PDF, Excel) with fan charts, on cron schedules.

``content`` (frames → ReportData) and ``render`` (ReportData → HTML) are pure;
``render_outputs(data, formats)`` gives HTML, PDF and Excel bytes from one ReportData; ``jobs``
runs a stored report definition against the series store; ``scheduler`` fires runs at
their cron times, exactly once across service processes. ``options.ReportOptions`` carries
what the runner and scheduler are told (report directory, windows, refresh): ``reports``
never reads the environment.
"""

from __future__ import annotations

from reports.options import ReportOptions
from reports.outputs import OUTPUT_FORMATS, render_outputs
from reports.samples import SAMPLE_REPORT, ensure_sample_report

__all__ = ["OUTPUT_FORMATS", "SAMPLE_REPORT", "ReportOptions", "ensure_sample_report", "render_outputs"]
