"""The real-time backtest script on a tiny file in the compiled GACC layout (no shared data needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from bench.realtime_backtest import main, publication_date, read_releases


def test_publication_date_reads_the_earliest_date_named():
    assert publication_date("RT 2019-01-14: $84.07bn; Sputnik 2018-01-12: exports", 2017) == datetime(
        2018, 1, 12, tzinfo=UTC
    )
    assert publication_date("bne.eu/TASS 2025-01: $244.81bn", 2024) == datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC)
    assert publication_date("vietnamplus 2011: 2009 fell 32%", 2009) == datetime(2011, 12, 31, tzinfo=UTC)


def test_script_replays_releases_through_the_store(tmp_path):
    rows = [
        (2016, 69.5, "RT 2017-01-13: $69.5bn"),
        (2017, 84.07, "Sputnik 2018-01-12"),
        (2018, 107.06, "RT 2019-01-14"),
        (2019, 110.75, "btimesonline 2020-01-15"),
        (2020, 107.76, "Sputnik 2021-01-14"),
        (2021, 146.887, "IANS 2022-07-13"),
    ]
    frame = pd.DataFrame(rows, columns=["year", "gacc_total_usd_bn", "gacc_source"])
    frame.to_csv(tmp_path / "china_russia_annual_trade_compiled.csv", index=False)
    assert read_releases(tmp_path)["year"].tolist() == [2016, 2017, 2018, 2019, 2020, 2021]
    out = tmp_path / "out"
    assert main(["--domain", str(tmp_path), "--models", "naive", "--horizon", "1", "--out", str(out)]) == 0
    result = pd.read_csv(out / "realtime_backtest.csv")
    assert result["cutoff"].astype(str).tolist() == ["2017", "2018", "2019", "2020", "2021"]
    assert result["mean"].tolist() == [84.07, 107.06, 110.75, 107.76, 146.887]
