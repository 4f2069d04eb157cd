"""Real public files from ../shared/data/domain (read there, never copied): ingest end to end.

Skipped when the shared folder is absent (e.g. on a fresh clone elsewhere).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import Store, load_series
from tests.data.conftest import REPO_ROOT

DOMAIN = REPO_ROOT.parent / "shared" / "data" / "domain"
FCS = DOMAIN / "russia_fcs_trade_by_partner_monthly_2006_2021.csv"


@pytest.mark.skipif(not FCS.exists(), reason="shared domain data not available")
def test_russia_fcs_monthly_trade_by_partner_round_trips(tmp_path, sqlite_store: Store):
    raw = pd.read_csv(FCS)
    long = pd.DataFrame(
        {
            "unique_id": "ru_"
            + raw["flow_russia"]
            + "_"
            + raw["partner_en"].str.lower().str.replace(r"\W+", "_", regex=True),
            "ds": raw["year"].astype(str) + "-" + raw["month"].astype(str).str.zfill(2),
            "y": raw["value_musd"],
            "flow": raw["flow_russia"],
        }
    )
    path = tmp_path / "fcs_long.csv"
    long.to_csv(path, index=False)
    tags = {"reporter": "RU", "source": "FCS via mary-lev/eu-export-sanctions"}
    result = load_series(path, unit="USD mn", tags=tags)
    assert all(m.frequency == "monthly" for m in result.metas.values())
    sqlite_store.series.save_ingested(result, release="FCS 96stran")
    china = sqlite_store.series.read_series("ru_export_china")
    expected = raw[(raw.partner_en == "China") & (raw.flow_russia == "export")]
    assert china.series.index[0] == pd.Period("2006-01", "M")
    assert china.series.notna().sum() == len(expected)
    assert np.isclose(china.series.sum(), expected["value_musd"].sum())
    assert china.meta.tags["flow"] == "export" and china.meta.unit == "USD mn"
