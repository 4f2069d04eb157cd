"""The report at print width and its PDF's first page, looked at through headless Chromium.

The HTML is opened at 700 CSS pixels, the content width of an A4 page with the report's
12 mm margins, and a probe lists every element whose right edge passes the page's width.
The PDF is printed by :func:`reports.outputs.render_outputs` and its first page rasterised
with ``pdftoppm``: the fan chart's colour is there and nothing is drawn in the right margin.
A control page with a too-wide table shows the probe can fail. Screenshots are kept under
``test-artifacts/reports/``.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from reports.content import ReportData
from reports.outputs import render_outputs
from tests.reports.test_browser import ARTIFACTS, _run_chromium, chromium  # noqa: F401  (the fixture)
from tests.reports.test_outputs import report  # noqa: F401  (the fixture)
from tests.reports.test_structure_sections import _report as structures_report
from tests.reports.test_structure_sections import sections  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

_PRINT_WIDTH = 700
_OVERFLOW_PROBE = """<script>
window.addEventListener("load", function () {
  var limit = document.documentElement.clientWidth;
  var wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > limit + 1) { wide.push(el.tagName + "." + el.className + " " + box.right); }
  });
  var out = document.createElement("pre");
  out.id = "tc-overflow";
  var charts = document.querySelectorAll("figure.chart svg").length;
  var shares = Array.prototype.map.call(document.querySelectorAll("svg.share-chart"), function (svg) {
    var box = svg.getBoundingClientRect();
    return {width: box.width, height: box.height, bars: svg.querySelectorAll("path").length};
  });
  out.textContent = JSON.stringify({limit: limit, wide: wide, charts: charts, shares: shares});
  document.body.appendChild(out);
});
</script>"""


def _overflow(chromium: str, html: str, folder: Path) -> dict[str, object]:  # noqa: F811
    page = folder / "probe.html"
    page.write_text(html.replace("<head>", "<head>" + _OVERFLOW_PROBE, 1), encoding="utf-8")
    result = _run_chromium(chromium, f"--window-size={_PRINT_WIDTH},1200", "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    match = re.search(r'<pre id="tc-overflow">(.*?)</pre>', result.stdout, re.S)
    assert match, "the probe did not report"
    return dict(json.loads(html_lib.unescape(match.group(1))))


def test_html_at_print_width_has_charts_and_nothing_overflows(
    chromium: str,  # noqa: F811
    report: ReportData,  # noqa: F811
    tmp_path: Path,
) -> None:
    html = render_outputs(report, ("html",))["html"].decode("utf-8")
    found = _overflow(chromium, html, tmp_path)
    assert found["charts"] == 2
    assert found["wide"] == [], found
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-print-width.png"
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    result = _run_chromium(chromium, f"--window-size={_PRINT_WIDTH},1400", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.stat().st_size > 10_000


def test_overflow_probe_catches_a_too_wide_table(chromium: str, tmp_path: Path) -> None:  # noqa: F811
    wide = "<!DOCTYPE html><html><head></head><body><table style='width:2000px'><tr><td>x</td></tr></table></body>"
    found = _overflow(chromium, wide, tmp_path)
    assert found["wide"]


def test_pdf_first_page_shows_the_chart_inside_the_page(report: ReportData, tmp_path: Path) -> None:  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("pdftoppm"):
        pytest.skip("chromium and poppler-utils are installed by `make install`")
    pdf = render_outputs(report, ("pdf",))["pdf"]
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    png = next(tmp_path.glob("page*.png"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, ARTIFACTS / "report-pdf-page1.png")
    pixels = np.asarray(mpimg.imread(png))[..., :3]
    height, width = pixels.shape[:2]
    assert 560 <= width <= 620 and height > width  # A4 portrait at 72 dpi (595 x 842)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    blue = (b > r + 0.15) & (b > g + 0.1)
    assert int(blue.sum()) > 500  # the forecast fan of the first chart
    margin = pixels[:, width - int(width * 0.02) :]  # the right page margin (12 mm is ~6% wide)
    assert float(margin.min()) > 0.97  # blank: nothing runs off the page


def test_stacked_share_chart_in_chromium_is_visible_and_fits(
    chromium: str,  # noqa: F811
    sections,  # noqa: F811
    tmp_path: Path,
) -> None:
    html = render_outputs(structures_report(sections), ("html",))["html"].decode("utf-8")
    found = _overflow(chromium, html, tmp_path)
    assert found["wide"] == [], found
    shares = found["shares"]
    assert isinstance(shares, list) and len(shares) == 1
    chart = shares[0]
    assert chart["width"] >= 400 and chart["height"] >= 150
    assert chart["bars"] >= 3 * 10  # three components over six observed and four forecast periods
    page = tmp_path / "structures.html"
    page.write_text(html, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-structures.png"
    result = _run_chromium(chromium, f"--window-size={_PRINT_WIDTH},1200", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.stat().st_size > 10_000
