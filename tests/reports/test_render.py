"""Rendering: structure of the HTML page at a fixed as-of date (no database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from reports.content import ReportData, build_report, compute_section, failed_section
from reports.render import format_number, render_html
from tests.reports.conftest import AS_OF, monthly_series


class _Structure(HTMLParser):
    """Collects sections, table rows per class, SVGs and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[dict[str, str | None]] = []
        self.rows: dict[str, int] = {}
        self.svgs = 0
        self.svg_paths = 0
        self.external: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "section" and "series" in (a.get("class") or ""):
            self.sections.append(a)
        if tag == "tr" and a.get("class"):
            self.rows[a["class"] or ""] = self.rows.get(a["class"] or "", 0) + 1
        if tag == "svg":
            self.svgs += 1
        if tag == "path":
            self.svg_paths += 1
        for key in ("src", "href", "xlink:href"):
            value = a.get(key) or ""
            if value and not value.startswith("#") and not value.startswith("data:"):
                self.external.append(value)
        if tag in ("script", "link", "img", "iframe"):
            self.external.append(tag)


def _report() -> ReportData:
    sections = [
        compute_section(
            f"series-{i}", monthly_series(48, seed=i), horizon=5, levels=(80, 95), model="drift", title=f"Series {i}"
        )
        for i in range(3)
    ]
    sections.append(
        failed_section("broken", "InsufficientDataError: too short", title="Broken <series>", code="insufficient_data")
    )
    return build_report(
        name="fixed",
        title="Fixed & dated",
        sections=sections,
        as_of=AS_OF,
        generated_at=datetime(2024, 1, 15, 12, 5, tzinfo=UTC),
        horizon=5,
        levels=(80, 95),
        model="drift",
        description="A test report.",
    )


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(_report())


def test_render_has_one_section_per_series_with_chart_and_tables(html: str) -> None:
    parsed = _Structure()
    parsed.feed(html)
    assert [s["data-series-id"] for s in parsed.sections] == ["series-0", "series-1", "series-2", "broken"]
    assert parsed.svgs == 3  # one chart per series that has a forecast
    assert parsed.svg_paths > 3 * 5  # the charts are not empty
    assert parsed.rows["forecast-row"] == 3 * 5
    assert html.count('class="accuracy"') == 3
    assert html.count("How did we do") == 3
    # The reader gets the problem and its fix in words, not the exception's name.
    assert "No forecast: there are too few observations to fit a model. To fix it, load a longer history" in html
    assert "InsufficientDataError" not in html


def test_render_is_self_contained(html: str) -> None:
    parsed = _Structure()
    parsed.feed(html)
    assert parsed.external == []
    # Only XML namespace names may mention http (they are identifiers, never fetched).
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_render_shows_as_of_and_generation_time_and_escapes(html: str) -> None:
    assert 'datetime="2024-01-15T12:00:00+00:00"' in html
    assert 'datetime="2024-01-15T12:05:00+00:00"' in html
    assert "Fixed &amp; dated" in html
    assert "Broken &lt;series&gt;" in html and "Broken <series>" not in html


def test_render_is_deterministic_for_fixed_inputs() -> None:
    report = _report()
    assert render_html(report) == render_html(report)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1234.5678, "1,235"), (0.123456, "0.1235"), (0.0, "0"), (float("nan"), "\u2013"), (None, "\u2013")],
)
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text
