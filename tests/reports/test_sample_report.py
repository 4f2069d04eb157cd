"""The sample report ``china-russia`` on the bundled samples, at fixed as-of dates, and the CLI."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from data import Store
from data.samples import load_samples
from reports import SAMPLE_REPORT, ensure_sample_report
from reports.jobs import run_report
from reports.store import SUCCEEDED, ReportStore

FIRST_AS_OF = datetime(2024, 2, 1, 7, 0, tzinfo=UTC)
AS_OF = datetime(2026, 1, 12, 4, 0, tzinfo=UTC)  # a Monday, 07:00 Moscow time


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.row_classes: list[str] = []
        self.section_ids: list[str] = []
        self.paths_per_svg: list[int] = []
        self._heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("h1", "h2", "h3"):
            self._heading = ""
        if tag == "tr" and a.get("class"):
            self.row_classes.append(a["class"] or "")
        if tag == "section":
            self.section_ids.append(a.get("data-series-id") or "")
        if tag == "svg":
            self.paths_per_svg.append(0)
        if tag == "path" and self.paths_per_svg:
            self.paths_per_svg[-1] += 1

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append(self._heading.strip())
            self._heading = None


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("samples")
    store = Store.from_url(f"sqlite:///{folder / 'samples.db'}")
    store.create_schema()
    load_samples(store)
    assert ensure_sample_report(store, run_now=False) is True
    assert ensure_sample_report(store, run_now=False) is False  # idempotent
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def sample_html(sample_store: Store) -> str:
    reports = ReportStore.for_store(sample_store)
    first = run_report("china-russia", FIRST_AS_OF, sample_store)
    run = run_report("china-russia", AS_OF, sample_store)
    assert first.status == run.status == SUCCEEDED, (first.error, run.error)
    return reports.get_html(run.run_id)


def test_sample_report_definition_is_weekly_on_china_russia_series(sample_store: Store) -> None:
    stored = ReportStore.for_store(sample_store).get_definition("china-russia").definition
    assert stored == SAMPLE_REPORT
    assert stored.schedule == "0 7 * * 1" and stored.model == "auto"
    assert all(sample_store.series.has_series(s) for s in stored.series_ids)


def test_sample_report_says_the_yuan_shares_rest_on_thin_evidence(sample_html: str) -> None:
    for series_id in ("ru_export_settlement_share_cny", "ru_import_settlement_share_cny"):
        section = sample_html.split(f'data-series-id="{series_id}"')[1].split("<section")[0]
        assert 'data-code="thin_evidence"' in section and 'data-code="sparse_series"' in section
        assert re.search(r"based on \d+ published months", section)
        assert "the band reflects model uncertainty only if the model is right" in section
    annual = sample_html.split('data-series-id="cn_ru_trade_total_annual"')[1].split("<section")[0]
    assert 'data-code="sparse_series"' not in annual


def test_sample_report_structure_at_fixed_as_of(sample_html: str) -> None:
    outline = _Outline()
    outline.feed(sample_html)
    assert outline.headings[0] == "China\u2013Russia trade"
    # Annual and monthly trade, exports and imports, and the yuan settlement shares.
    assert [s for s in outline.section_ids if s] == [
        "cn_ru_trade_total_annual",
        "cn_ru_trade_total_monthly",
        "cn_ru_exports_monthly",
        "cn_ru_imports_monthly",
        "ru_export_settlement_share_cny",
        "ru_import_settlement_share_cny",
    ]
    assert outline.headings[1:5] == [
        "China-Russia trade, total (annual, China customs/GACC)",
        "Forecasts",
        "Model and backtest accuracy",
        "How did we do",
    ]
    assert "Share of Russia's export settlements in CNY (monthly, fraction)" in outline.headings
    # One non-empty chart per series (gappy ones forecast through their gaps), and the stacked
    # chart of the settlement shares.
    assert len(outline.paths_per_svg) == 7 and min(outline.paths_per_svg) >= 10
    assert 'class="error series-error' not in sample_html
    # Three forecast rows per series (2026-2028 for the annual total).
    assert outline.row_classes.count("forecast-row") == 3 * 6
    # Shares print as percentages; the last yuan export share is the January 2024 Review figure.
    assert "last observation 2024-01: 40.8%" in sample_html
    assert "skips the months that are missing" in sample_html
    assert sample_html.count('class="sentence"') == 6
    assert "Source: GACC via press reports" in sample_html
    # The sample structures are in the report, forecast through their gaps: a coherent table
    # each and the stacked chart of the settlement shares.
    assert 'data-structure="cn-ru-trade"' in sample_html
    assert 'data-structure="ru-export-settlement-currencies"' in sample_html
    assert "a structure is forecast from the periods in which every part is published" not in sample_html
    assert sample_html.count('class="share-chart"') == 1
    assert re.search(r'<tr class="forecast-row"><td>2026</td>', sample_html)
    # "How did we do": the February 2024 run forecast 2024-2026; 2024 and 2025 have arrived.
    assert outline.row_classes.count("past-row") == 2
    assert "2024-02-01 07:00" in sample_html
    assert 'datetime="2026-01-12T04:00:00+00:00"' in sample_html
    assert "last observation 2025: 228.1" in sample_html
    assert 'class="accuracy"' in sample_html and "sMAPE" in sample_html
    assert "data vintage" in sample_html and "release bundled sample" in sample_html


def _forecast_rows(html: str, marker: str) -> list[str]:
    """The first forecast row's first value cell after ``marker`` (a section or structure tag)."""
    start = html.index(marker)
    return re.findall(r"<td>2026</td><td>([^<]+)</td>", html[start:])[:1]


def test_sample_report_shows_one_coherent_number_per_series(sample_html: str) -> None:
    # The annual total belongs to the structure cn-ru-trade shown in the same report: its
    # section shows the structure's reconciled 2026 figure, labelled, not a second forecast.
    section = sample_html.index('data-series-id="cn_ru_trade_total_annual"')
    structure = sample_html.index('<section class="structure" id="st-1" data-structure="cn-ru-trade"')
    assert 'class="note coherent" data-structure="cn-ru-trade"' in sample_html[section:structure]
    own = _forecast_rows(sample_html, 'data-series-id="cn_ru_trade_total_annual"')
    table = sample_html[structure:]
    row = re.search(r'<tr class="structure-row"><td>2026</td>(.*?)</tr>', table)
    assert row is not None and own
    total_cell = re.findall(r"<td>([^<]+?) <span", row.group(1))[-1]  # the grand total is the last column
    assert own[0].strip() == total_cell.strip()
    sentence = re.search(r'<p class="sentence">([^<]+)</p>', sample_html[section:structure])
    value = float(total_cell.replace(",", ""))
    assert sentence is not None and f"${value:,.0f} bn in 2026" in sentence.group(1)
    growth = re.search(r"([0-9.]+)% above the 2025 base", sentence.group(1))
    assert growth is not None and abs(float(growth.group(1)) - 100 * (value / 228.105 - 1)) < 0.1
    # A total moved outside its own band carries the reconciliation warning in both places.
    if 'data-code="reconciliation_moved"' in table:
        assert 'data-code="reconciliation_moved"' in sample_html[section:structure]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TRADECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TRADECAST_REPORT_DIR", str(tmp_path / "out"))
    # The CLI reads its settings afresh in every command: no cache to clear.
    yield tmp_path


def test_cli_load_samples_creates_sample_report_then_list_and_run(cli_env: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli_app, ["report", "list"])
    assert result.exit_code == 0 and "no reports" in result.output
    assert runner.invoke(cli_app, ["load-samples"]).exit_code == 0
    # load-samples made a first run (default model), so /runs/latest answers right away.
    result = runner.invoke(cli_app, ["report", "list"])
    assert result.exit_code == 0, result.output
    assert re.search(r"china-russia\s+0 7 \* \* 1 \(Europe/Moscow\)\s+1\s+succeeded", result.output)
    assert runner.invoke(cli_app, ["load-samples", "--if-empty"]).exit_code == 0
    assert re.search(r"\s1\s+succeeded", runner.invoke(cli_app, ["report", "list"]).output)  # not run again
    store = Store.from_url(f"sqlite:///{cli_env / 'cli.db'}")
    try:
        definition = ReportStore.for_store(store).get_definition("china-russia").definition
        # A fast model keeps the CLI test quick; the default model is exercised above.
        ReportStore.for_store(store).update_definition(dataclasses.replace(definition, model="drift"))
    finally:
        store.dispose()
    result = runner.invoke(cli_app, ["report", "run", "china-russia", "--as-of", "2026-01-12T07:00+03:00"])
    assert result.exit_code == 0, result.output
    assert "succeeded (as of 2026-01-12T04:00:00+00:00, 6 series, 0 wit" in result.output
    # The PDF and the workbook are written next to the HTML (the PDF when Chromium is installed).
    xlsx = re.search(r"^xlsx: (\S+)$", result.output, re.M)
    assert xlsx and Path(xlsx.group(1)).read_bytes()[:2] == b"PK"
    pdf = re.search(r"^pdf: (\S+)$", result.output, re.M)
    assert (pdf and Path(pdf.group(1)).read_bytes().startswith(b"%PDF-")) or "no pdf: PDF output needs" in result.output
    html_file = Path(result.output.split("html: ", 1)[1].split()[0])
    assert html_file.parent == cli_env / "out" / "china-russia" and html_file.is_file()
    result = runner.invoke(cli_app, ["report", "list"])
    assert re.search(r"china-russia.*\s2\s+succeeded", result.output)


def test_cli_run_unknown_report_or_bad_as_of_fails(cli_env: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli_app, ["report", "run", "nope"])
    assert result.exit_code == 1 and "no report named 'nope'" in result.output
    result = runner.invoke(cli_app, ["report", "run", "nope", "--as-of", "last tuesday"])
    assert result.exit_code == 2 and "--as-of" in result.output
