"""The report as PDF: the same HTML page printed by headless Chromium (Debian's ``chromium``).

Chromium was chosen over WeasyPrint by measurement (see ``docs/reports.md``): it prints the
page exactly as a browser shows it (the inline SVG charts, the CSS of the HTML report, print
rules included), and the service already needs it for nothing else but this and its browser
tests, where WeasyPrint would add a second layout engine with its own CSS and SVG subset.
The page is printed from a temporary file with every network request refused, in a fresh
profile, so nothing is fetched and nothing is kept between runs.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from reports.exceptions import RenderFailedError, RenderUnavailableError

__all__ = ["CHROMIUM_FLAGS", "find_chromium", "html_to_pdf"]

logger = logging.getLogger(__name__)

#: Flags that run Chromium headless in a container as root, with no background traffic.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    # The report is self-contained; refusing every host keeps a stray URL from leaking out.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def find_chromium(executable: str | None = None) -> str:
    """The Chromium executable: ``executable`` if given, else ``chromium`` on ``PATH``.

    Raises
    ------
    RenderUnavailableError
        When no Chromium is found, saying how to install it.
    """
    found = shutil.which(executable) if executable else None
    found = found or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RenderUnavailableError(
            "PDF output needs headless Chromium, which is not installed: run `make install` "
            "(it installs Debian's chromium package) or `apt-get install chromium`."
        )
    return found


def html_to_pdf(html: str, *, executable: str | None = None, timeout: float = 120.0) -> bytes:
    """Print ``html`` (a self-contained page) to PDF with headless Chromium.

    Parameters
    ----------
    html : str
        A complete HTML document that loads nothing by URL.
    executable : str or None
        Path or name of the Chromium binary (default: ``chromium`` on ``PATH``).
    timeout : float
        Seconds before the print is abandoned.

    Returns
    -------
    bytes
        The PDF document (A4, the page's own ``@page`` rules apply, no header or footer).

    Raises
    ------
    RenderUnavailableError
        Chromium is not installed.
    RenderFailedError
        Chromium exited with an error, timed out, or wrote no PDF.
    """
    chromium = find_chromium(executable)
    with tempfile.TemporaryDirectory(prefix="tc-pdf-") as folder:
        page, out = Path(folder) / "report.html", Path(folder) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RenderFailedError(f"Chromium did not print the report within {timeout:g} s.") from None
        if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            logger.error("chromium --print-to-pdf failed (%s): %s", done.returncode, done.stderr[-2000:])
            raise RenderFailedError(f"Chromium could not print the report to PDF (exit status {done.returncode}).")
        return out.read_bytes()
