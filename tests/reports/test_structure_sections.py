"""Stored structures in a report: a coherent table (exports + imports = total) and the currency
shares as a table summing to 100% with a stacked chart; in HTML, Excel and a stored run."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from data import SeriesMeta, Store, StructureDefinition
from reports.content import build_report
from reports.definitions import ReportDefinition
from reports.jobs import run_report
from reports.render import render_html
from reports.store import SUCCEEDED, ReportStore
from reports.structures import StructureSection, structure_section
from reports.xlsx import render_xlsx
from tests.reports.conftest import AS_OF

INDEX = pd.period_range("2019-01", periods=48, freq="M")
HIERARCHY = StructureDefinition(
    name="trade", kind="hierarchy", hierarchy={"total": ("exports", "imports")}, model="naive", method="ols",
    description="China-Russia trade: total = exports + imports",
)  # fmt: skip
SHARES = StructureDefinition(
    name="currencies", kind="composition", components=("cny", "rub", "other"), model="naive",
    description="Settlement currencies: shares summing to 100%",
)  # fmt: skip


def _flows() -> dict[str, pd.Series]:
    rng = np.random.default_rng(7)
    exports = pd.Series(50 + np.cumsum(rng.normal(0.3, 1.0, 48)), index=INDEX)
    imports = pd.Series(40 + np.cumsum(rng.normal(0.2, 1.0, 48)), index=INDEX)
    return {"exports": exports, "imports": imports, "total": exports + imports}


def _shares() -> dict[str, pd.Series]:
    rng = np.random.default_rng(8)
    cny = np.clip(0.2 + np.cumsum(rng.normal(0.005, 0.01, 48)), 0.05, 0.6)
    rub = np.clip(0.3 + np.cumsum(rng.normal(0.0, 0.01, 48)), 0.1, 0.35)
    return {
        "cny": pd.Series(cny, index=INDEX),
        "rub": pd.Series(rub, index=INDEX),
        "other": pd.Series(1 - cny - rub, index=INDEX),
    }


def _long(series: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": s.index, "y": s.to_numpy()}) for k, s in series.items()], ignore_index=True
    )


@pytest.fixture(scope="module")
def sections() -> tuple[StructureSection, StructureSection]:
    trade = structure_section(HIERARCHY, _long(_flows()), horizon=4, levels=(80, 95), unit="USD bn")
    shares = structure_section(SHARES, _long(_shares()), horizon=4, levels=(80, 95), labels={"cny": "Yuan"})
    return trade, shares


def test_hierarchy_section_adds_up_and_lists_parts_before_the_total(sections) -> None:
    trade, _ = sections
    assert trade.ok and trade.members == ["exports", "imports", "total"]
    assert len(trade.periods) == 4 and trade.periods[0] == "2023-01"
    np.testing.assert_allclose(trade.means["total"], trade.sum_of_parts("total"), rtol=1e-9)
    for m in trade.members:
        for i in range(4):
            lo95, hi95 = trade.bounds[m][95][i]
            lo80, hi80 = trade.bounds[m][80][i]
            assert lo95 <= lo80 <= trade.means[m][i] <= hi80 <= hi95


def test_composition_section_sums_to_one_within_bounds(sections) -> None:
    _, shares = sections
    assert shares.ok and shares.share and shares.labels["cny"] == "Yuan"
    np.testing.assert_allclose(shares.period_totals, 1.0, atol=1e-9)
    assert all(0 <= lo <= hi <= 1 for m in shares.members for lo, hi in shares.bounds[m][95])
    assert len(shares.history_periods) == 6 and shares.history["cny"][-1] == pytest.approx(_shares()["cny"].iloc[-1])


def test_structure_that_cannot_be_forecast_is_explained(sections) -> None:
    broken = _shares()
    broken["other"] = broken["other"] + 0.2  # no period sums to 1 any more
    section = structure_section(SHARES, _long(broken), horizon=4, levels=(80,))
    assert not section.ok and section.error_code == "composition_not_summing_to_one"
    assert section.explanation.startswith("No forecast: ") and "To fix it" in section.explanation


def _report(sections):
    return build_report(
        name="st", title="Structures", sections=[], structures=list(sections), as_of=AS_OF,
        generated_at=AS_OF, horizon=4, levels=(80, 95), model="naive",
    )  # fmt: skip


def test_html_shows_coherent_table_and_stacked_share_chart(sections) -> None:
    html = render_html(_report(sections))
    assert html.count('class="structure"') == 2
    assert html.count('class="structure-row"') == 8
    assert html.count('class="share-chart"') == 1  # the composition only
    assert html.count('<td class="total">100.0%</td>') == 4
    assert "<th>Yuan</th>" in html and "<th>total</th>" in html


def test_xlsx_has_a_sheet_per_structure(sections) -> None:
    book = load_workbook(io.BytesIO(render_xlsx(_report(sections))))
    assert book.sheetnames == ["contents", "trade", "currencies"]
    rows = [r for r in book["trade"].iter_rows(values_only=True) if r and r[0] and str(r[0]).startswith("2023")]
    header = next(r for r in book["trade"].iter_rows(values_only=True) if r and r[0] == "period")
    col = {name: i for i, name in enumerate(header)}
    for r in rows:
        assert r[col["total mean"]] == pytest.approx(r[col["exports mean"]] + r[col["imports mean"]], rel=1e-9)


def test_report_run_shows_stored_structures_and_names_unknown_ones(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'st.db'}")
    store.create_schema()
    try:
        for sid, y in {**_flows(), **_shares()}.items():
            kind = "share" if sid in SHARES.components else "level"
            store.series.save_series(SeriesMeta(sid, name=sid.title(), frequency="monthly", kind=kind), y)
        store.structures.define(HIERARCHY)
        store.structures.define(SHARES)
        reports = ReportStore.for_store(store)
        reports.create_definition(
            ReportDefinition(
                name="st",
                series_ids=("total",),
                model="naive",
                schedule=None,
                structures=("trade", "currencies", "nope"),
            )
        )
        run = run_report("st", AS_OF, store, backtest_windows=1)
        assert run.status == SUCCEEDED, run.error
        html = reports.get_html(run.run_id)
    finally:
        store.dispose()
    assert 'data-structure="trade"' in html and 'data-structure="currencies"' in html
    assert html.count('class="share-chart"') == 1
    assert "No forecast: no stored structure has this name" in html
