"""Bundled samples: published figures with sources, loaded idempotently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import Store
from data.samples import (
    SAMPLE_RELEASE,
    SAMPLES,
    load_cn_ru_trade_annual,
    load_cn_ru_trade_monthly,
    load_ru_settlement_currency_shares,
    load_samples,
)


def test_every_sample_file_carries_a_source_for_every_figure():
    for loader in (load_cn_ru_trade_annual, load_cn_ru_trade_monthly, load_ru_settlement_currency_shares):
        sample = loader()
        assert len(sample.provenance) == len(sample.frame)
        assert (sample.provenance["source"].str.len() > 0).all()
        assert all(m.tags["source"] for m in sample.metas.values())


def test_annual_trade_matches_published_gacc_figures():
    sample = load_cn_ru_trade_annual()
    assert set(sample.metas) == {"cn_ru_trade_total_annual", "cn_ru_exports_annual", "cn_ru_imports_annual"}
    frame = sample.frame.set_index(["unique_id", sample.frame.ds.astype(str)])["y"]
    assert frame[("cn_ru_trade_total_annual", "1996")] == 6.83
    assert frame[("cn_ru_trade_total_annual", "2024")] == 244.81
    assert frame[("cn_ru_exports_annual", "2022")] == 76.12
    assert frame[("cn_ru_imports_annual", "2024")] == 129.32
    meta = sample.metas["cn_ru_imports_annual"]
    assert (meta.frequency, meta.unit, meta.kind) == ("annual", "USD bn", "level")
    assert {k: meta.tags[k] for k in ("reporter", "partner", "flow", "currency")} == {
        "reporter": "CN",
        "partner": "RU",
        "flow": "import",
        "currency": "USD",
    }


def test_monthly_and_ytd_series_are_separate():
    sample = load_cn_ru_trade_monthly()
    assert {"cn_ru_trade_total_monthly", "cn_ru_trade_total_ytd"} <= set(sample.metas)
    frame = sample.frame.set_index(["unique_id", sample.frame.ds.astype(str)])["y"]
    assert frame[("cn_ru_trade_total_monthly", "2023-03")] == 20.064
    assert frame[("cn_ru_trade_total_ytd", "2023-05")] == 93.806  # Jan-May 2023 at its last month
    assert frame[("cn_ru_trade_total_ytd", "2023-02")] == 33.781  # Jan+Feb combined


def test_settlement_shares_are_fractions_with_gaps():
    sample = load_ru_settlement_currency_shares()
    meta = sample.metas["ru_export_settlement_share_cny"]
    assert (meta.kind, meta.frequency, meta.tags["currency"], meta.tags["flow"]) == (
        "share",
        "monthly",
        "CNY",
        "export",
    )
    assert sample.frame.y.between(0, 1).all()
    # This file mixes monthly and annual series, so ``ds`` holds Period objects.
    cny = sample.frame[sample.frame.unique_id == "ru_export_settlement_share_cny"]
    values = dict(zip(cny.ds.tolist(), cny.y.tolist(), strict=True))
    assert values[pd.Period("2024-01", "M")] == pytest.approx(0.408)  # CBR FMRR figure kept
    assert sample.metas["ru_export_settlement_share_usd_annual"].frequency == "annual"


def test_load_samples_is_idempotent(sqlite_store: Store):
    written = load_samples(sqlite_store)
    total = sqlite_store.series.list_series(limit=1000)[1]
    assert len(written) == total >= 20
    assert {v.release for v in written} == {SAMPLE_RELEASE}
    assert load_samples(sqlite_store) == []
    assert load_samples(sqlite_store, if_empty=True) == []
    assert all(
        len(sqlite_store.series.list_vintages(m.series_id)) == 1 for m in sqlite_store.series.list_series(limit=1000)[0]
    )
    shares = sqlite_store.series.read_series("ru_export_settlement_share_cny").series
    assert shares.index.freqstr == "M" and shares.isna().any() and np.nanmax(shares.to_numpy()) <= 1


def test_load_samples_if_empty_skips_a_store_with_series(sqlite_store: Store):
    load_cn = load_cn_ru_trade_annual()
    sqlite_store.series.save_ingested(load_cn.result)
    assert load_samples(sqlite_store, if_empty=True) == []
    assert sqlite_store.series.list_series()[1] == 3


def test_sample_registry_lists_the_files():
    assert set(SAMPLES) == {"cn_ru_trade_annual", "cn_ru_trade_monthly", "ru_settlement_currency_shares"}


def test_load_samples_defines_sample_structures_once(sqlite_store: Store) -> None:
    from data.samples import SAMPLE_STRUCTURES, ensure_sample_structures, load_samples

    load_samples(sqlite_store)
    names = [s.name for s in sqlite_store.structures.list()[0]]
    assert names == sorted(s.name for s in SAMPLE_STRUCTURES)
    trade = sqlite_store.structures.get("cn-ru-trade")
    assert trade.hierarchy == {"cn_ru_trade_total_annual": ("cn_ru_exports_annual", "cn_ru_imports_annual")}
    assert sqlite_store.structures.get("ru-export-settlement-currencies").kind == "composition"
    assert ensure_sample_structures(sqlite_store) == []


def test_sample_structures_skipped_when_their_series_are_absent(sqlite_store: Store) -> None:
    from data.samples import ensure_sample_structures

    assert ensure_sample_structures(sqlite_store) == []
    assert sqlite_store.structures.list()[1] == 0
