"""A generated report opened in headless Chromium: screenshot kept, no console errors,
chart visible and of non-trivial size.

Chromium is Debian's ``chromium`` package; the fixture installs it with apt-get when it is
missing and the tests run as root (as CI does), and skips with the reason otherwise. The
screenshot is kept under ``test-artifacts/reports/`` (gitignored).

The page is checked through a copy of it with a probe script inserted first in ``<head>``:
the probe records ``console.error``/``console.warn`` calls, uncaught errors and failed
resource loads, measures every chart once the page has loaded, and writes its findings
into the DOM, which ``--dump-dom`` returns. Chromium's own console log (``--enable-logging``)
must also be silent. A control page with a deliberate error proves the check can fail.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from data import SeriesMeta, Store
from reports.definitions import ReportDefinition
from reports.jobs import run_report
from reports.store import SUCCEEDED, ReportStore
from tests.reports.conftest import AS_OF, make_store, monthly_series

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]
_PROBE = """<script>
(function () {
  var problems = [];
  ["error", "warn"].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      problems.push(level + ": " + Array.prototype.join.call(arguments, " "));
      return original.apply(console, arguments);
    };
  });
  window.addEventListener("error", function (event) {
    var target = event.target || {};
    problems.push(target !== window && (target.src || target.href)
      ? "failed to load " + (target.src || target.href) : "error: " + event.message);
  }, true);
  window.addEventListener("unhandledrejection", function (event) { problems.push("rejection: " + event.reason); });
  window.addEventListener("load", function () {
    var charts = Array.prototype.map.call(document.querySelectorAll("figure.chart svg"), function (svg) {
      var box = svg.getBoundingClientRect();
      var style = getComputedStyle(svg);
      return {width: box.width, height: box.height, display: style.display, visibility: style.visibility,
              shapes: svg.querySelectorAll("path").length};
    });
    var out = document.createElement("pre");
    out.id = "tc-probe";
    out.textContent = JSON.stringify({problems: problems, charts: charts,
                                      sections: document.querySelectorAll("section.series").length});
    document.body.appendChild(out);
  });
})();
</script>"""


@pytest.fixture(scope="session")
def chromium() -> str:
    # Never installed from here: an apt-get inside the test run can take minutes or wait on
    # the package lock. `make install` installs it when it can (the `browser` target).
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium is not installed: `make browser` or `apt-get install chromium` enables these tests")
    return found


def _run_chromium(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="tc-chromium-") as profile:
        return subprocess.run(
            [chromium, *_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )


def _probe(chromium: str, page: Path) -> tuple[dict[str, Any], list[str]]:
    """Open ``page`` with the probe inserted; return the probe's findings and console lines."""
    probed = page.with_name(page.stem + ".probe.html")
    html = page.read_text(encoding="utf-8")
    probed.write_text(html.replace("<head>", "<head>" + _PROBE, 1), encoding="utf-8")
    result = _run_chromium(
        chromium, "--enable-logging=stderr", "--v=0", "--window-size=1280,2000", "--dump-dom", probed.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    match = re.search(r'<pre id="tc-probe">(.*?)</pre>', result.stdout, re.S)
    assert match, "the probe did not report: the page did not finish loading"
    findings = json.loads(html_lib.unescape(match.group(1)))
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return findings, console


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    store: Store = make_store(f"sqlite:///{folder / 'db.sqlite'}")
    try:
        for i in range(3):
            store.series.save_series(
                SeriesMeta(f"s{i}", name=f"Series {i}", frequency="monthly", unit="USD bn"), monthly_series(seed=i)
            )
        reports = ReportStore.for_store(store)
        reports.create_definition(
            ReportDefinition(name="browser", series_ids=("s0", "s1", "s2"), model="drift", schedule=None)
        )
        run_report("browser", datetime(2023, 3, 1, tzinfo=UTC), store)
        run = run_report("browser", AS_OF, store)
        assert run.status == SUCCEEDED, run.error
        page = folder / "report.html"
        page.write_text(reports.get_html(run.run_id), encoding="utf-8")
    finally:
        store.dispose()
    return page


def test_report_in_chromium_has_visible_charts_and_no_console_errors(chromium: str, report_page: Path) -> None:
    findings, console = _probe(chromium, report_page)
    assert findings["problems"] == []
    assert console == []
    assert findings["sections"] == 3
    assert len(findings["charts"]) == 3
    for chart in findings["charts"]:
        assert chart["display"] != "none" and chart["visibility"] == "visible"
        assert chart["width"] >= 400 and chart["height"] >= 150, chart
        assert chart["shapes"] >= 10


def test_report_screenshot_is_kept_and_shows_the_fan(chromium: str, report_page: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    result = _run_chromium(chromium, "--window-size=1280,1400", f"--screenshot={shot}", report_page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    import matplotlib.image as mpimg

    pixels = np.asarray(mpimg.imread(shot))[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1200
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    blue = (b > r + 0.15) & (b > g + 0.1)  # the forecast line and the shaded fan
    assert int(blue.sum()) > 2_000
    shutil.copy(report_page, ARTIFACTS / "report.html")


def test_probe_detects_console_errors_and_broken_resources(chromium: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<figure class="chart"><svg width="10" height="10"></svg></figure>'
        '<img src="missing.png"><script>console.error("deliberate failure");</script></body></html>',
        encoding="utf-8",
    )
    findings, console = _probe(chromium, bad)
    assert any("deliberate failure" in p for p in findings["problems"])
    assert any("missing.png" in p for p in findings["problems"])
    assert console  # Chromium's own log saw the console call too
    assert findings["charts"][0]["width"] < 400  # and a tiny chart would fail the size check
