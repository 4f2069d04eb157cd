"""Every output format of a report from one :class:`~reports.content.ReportData`.

``render_outputs(data, formats=("html", "pdf", "xlsx"))`` is what a report run, a delivery
(e-mail attachment, webhook) or a notebook calls: HTML from the Jinja2 template, PDF by
printing that same HTML in headless Chromium, Excel from the same content with openpyxl.
"""

from __future__ import annotations

from collections.abc import Sequence

from forecasting.exceptions import InvalidParameterError
from reports.content import ReportData
from reports.pdf import html_to_pdf
from reports.render import render_html
from reports.xlsx import render_xlsx

__all__ = ["MEDIA_TYPES", "OUTPUT_FORMATS", "render_outputs"]

#: The formats :func:`render_outputs` makes, and their media types (for downloads and mail).
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
OUTPUT_FORMATS = tuple(MEDIA_TYPES)


def render_outputs(
    data: ReportData, formats: Sequence[str] = OUTPUT_FORMATS, *, chromium: str | None = None
) -> dict[str, bytes]:
    """The report in each of ``formats``, as bytes keyed by format.

    Parameters
    ----------
    data : ReportData
        Output of :func:`reports.content.build_report`.
    formats : sequence of {"html", "pdf", "xlsx"}
        Formats to make (HTML is rendered once and reused for the PDF).
    chromium : str or None
        Chromium executable for the PDF (default: ``chromium`` on ``PATH``).

    Raises
    ------
    InvalidParameterError
        An unknown format.
    RenderUnavailableError
        PDF asked for and Chromium is not installed.
    RenderFailedError
        Chromium failed to print.
    """
    unknown = [f for f in formats if f not in MEDIA_TYPES]
    if unknown or not formats:
        raise InvalidParameterError(
            f"formats must be a non-empty subset of {list(OUTPUT_FORMATS)}; got {list(formats)!r}."
        )
    out: dict[str, bytes] = {}
    html = render_html(data) if {"html", "pdf"} & set(formats) else ""
    for fmt in dict.fromkeys(formats):
        if fmt == "html":
            out[fmt] = html.encode("utf-8")
        elif fmt == "pdf":
            out[fmt] = html_to_pdf(html, executable=chromium)
        else:
            out[fmt] = render_xlsx(data)
    return out
