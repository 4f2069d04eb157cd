"""Connectors on recorded responses: parsing, provenance in the store, errors, secrets."""

from __future__ import annotations

import json
import logging
import os
import socket

import httpx
import numpy as np
import pandas as pd
import pytest

from data.connectors import (
    Connector,
    EmptyResultError,
    InvalidQueryError,
    SourceError,
    SourceOptions,
    SourceResponseError,
    SourceTimeoutError,
    UnknownSourceError,
    fetch_source,
    get_connector,
    list_sources,
)
from data.connectors.base import normalize_period
from data.exceptions import ConflictError
from data.meta import SeriesMeta
from tests.data._recorded import (
    COMTRADE_QUERY,
    DBNOMICS_QUERY,
    ECB_QUERY,
    IMF_QUERY,
    RECORDED,
    Recorded,
    recorded_sources_server,
)

SECRET = "comtrade-secret-key-0123456789"


def _fetch(source: str, query: str, recorded: Recorded | None = None, **options):
    recorded = recorded or Recorded()
    return fetch_source(source, query, options=SourceOptions(transport=recorded.transport, **options))


def test_every_source_is_a_connector() -> None:
    with httpx.Client() as client:
        for name in list_sources():
            connector = get_connector(name, client)
            assert isinstance(connector, Connector) and connector.name == name


def test_imf_sdmx_json_gives_period_indexed_series_with_metadata() -> None:
    recorded = Recorded()
    result = _fetch("imf", IMF_QUERY, recorded)
    (only,) = result.series
    assert only.meta.series_id == "imf.IMTS.CHN.XG_FOB_USD.RUS.A"
    assert only.meta.frequency == "annual" and only.meta.unit == "US dollar x10^6"
    assert only.meta.tags["COUNTERPART_COUNTRY"] == "RUS" and only.meta.tags["source"] == "imf"
    y = only.values
    assert isinstance(y.index, pd.PeriodIndex) and y.index.freqstr.startswith("Y")
    assert [str(p) for p in y.index] == ["2016", "2017", "2018", "2019", "2020"]
    # IMF DOTS China -> Russia exports, USD millions (the domain extract).
    assert y["2019"] == pytest.approx(49484.540)
    assert result.published_at is not None and result.published_at.isoformat() == "2026-11-27T09:15:02+00:00"
    (request,) = recorded.requests
    assert request.url.path == "/external/sdmx/2.1/data/IMF.STA,IMTS/CHN.XG_FOB_USD.RUS.A"
    assert "sdmx.data+json" in request.headers["accept"]


def test_ecb_reads_sdmx_json_2_messages() -> None:
    recorded = Recorded()
    result = _fetch("ecb", ECB_QUERY, recorded)
    (only,) = result.series
    assert only.meta.frequency == "monthly" and str(only.values.index[0]) == "2021-01"
    assert only.values.iloc[-1] == pytest.approx(243.926744)
    assert recorded.requests[0].url.params["format"] == "jsondata"


def test_comtrade_groups_records_into_one_series_and_uses_preview_without_key() -> None:
    recorded = Recorded()
    result = _fetch("comtrade", COMTRADE_QUERY, recorded)
    (only,) = result.series
    assert only.meta.series_id == "comtrade.A.156.643.X.TOTAL"
    assert only.meta.tags["reporter"] == "CHN" and only.meta.tags["partner"] == "RUS"
    assert only.values["2020"] == 50608370600.0
    (request,) = recorded.requests
    assert request.url.path.startswith("/public/v1/preview/")
    assert request.url.params["reporterCode"] == "156" and "Ocp-Apim-Subscription-Key" not in request.headers


def test_comtrade_key_goes_in_a_header_never_in_url_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    recorded = Recorded()
    result = _fetch("comtrade", COMTRADE_QUERY, recorded, comtrade_key=SECRET)
    (request,) = recorded.requests
    assert request.url.path.startswith("/data/v1/get/")
    assert request.headers["Ocp-Apim-Subscription-Key"] == SECRET
    assert SECRET not in str(request.url)
    with pytest.raises(SourceError) as caught:
        _fetch("comtrade", COMTRADE_QUERY, Recorded(status=503), comtrade_key=SECRET)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(SourceOptions(comtrade_key=SECRET))
    assert SECRET not in caplog.text
    assert SECRET not in repr(result)


def test_dbnomics_keeps_na_as_gap_and_reads_last_update() -> None:
    result = _fetch("dbnomics", DBNOMICS_QUERY)
    (only,) = result.series
    assert only.meta.series_id == "dbnomics.IMF.DOT.A.CN.TMG_CIF_USD.RU"
    assert np.isnan(only.values["2015"]) and only.values["2018"] == 58579835900.0
    assert only.last_updated is not None and only.last_updated.year == 2026


@pytest.mark.parametrize(
    ("source", "query"),
    [
        ("imf", "IMTS"),
        ("imf", "IMTS/A B"),
        ("ecb", ""),
        ("comtrade", "C/A/HS"),
        ("comtrade", "C/W/HS?reporterCode=156&flowCode=X"),
        ("comtrade", "C/A/HS?partnerCode=643"),
        ("dbnomics", "IMF/DOT"),
        ("dbnomics", "IMF/DOT/A..TMG_CIF_USD.RU"),
        ("dbnomics", "x" * 600),
    ],
)
def test_malformed_query_is_refused_before_any_request(source: str, query: str) -> None:
    recorded = Recorded()
    with pytest.raises(InvalidQueryError) as caught:
        _fetch(source, query, recorded)
    assert caught.value.code == "invalid_query" and source in str(caught.value)
    assert recorded.requests == []


def test_a_key_in_the_comtrade_query_is_refused_without_echoing_it() -> None:
    recorded = Recorded()
    with pytest.raises(InvalidQueryError, match="TRADECAST_COMTRADE_KEY") as caught:
        _fetch("comtrade", f"C/A/HS?reporterCode=156&flowCode=X&subscription-key={SECRET}", recorded)
    assert recorded.requests == [] and SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("label", "expected"),
    [("2019-M01", "2019-01"), ("2019M12", "2019-12"), ("201903", "2019-03"), ("2019-Q1", "2019-Q1"), ("2019", "2019")],
)
def test_source_period_labels_are_normalised(label: str, expected: str) -> None:
    assert normalize_period(label) == expected


def test_monthly_comtrade_periods_are_read() -> None:
    body = json.loads((RECORDED / "comtrade_chn_rus_exports_annual.json").read_text())
    for month, row in enumerate(body["data"][:3], start=1):
        row["period"] = f"2020{month:02d}"
    body["data"] = body["data"][:3]
    query = COMTRADE_QUERY.replace("C/A/HS", "C/M/HS")
    (only,) = _fetch("comtrade", query, Recorded(body=json.dumps(body).encode())).series
    assert only.meta.frequency == "monthly" and [str(p) for p in only.values.index] == ["2020-01", "2020-02", "2020-03"]


def test_non_numeric_value_is_a_bad_response_not_a_crash() -> None:
    body = json.loads((RECORDED / "dbnomics_imf_dot_chn_rus_imports_annual.json").read_text())
    body["series"]["docs"][0]["value"][3] = "n/a"
    with pytest.raises(SourceResponseError, match="'n/a' is not a number"):
        _fetch("dbnomics", DBNOMICS_QUERY, Recorded(body=json.dumps(body).encode()))


def test_comtrade_error_message_is_an_invalid_query() -> None:
    body = json.dumps({"elapsedTime": "0 secs", "count": 0, "data": None, "error": "Invalid reporterCode"}).encode()
    with pytest.raises(InvalidQueryError, match="Invalid reporterCode"):
        _fetch("comtrade", COMTRADE_QUERY, Recorded(body=body))


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(UnknownSourceError, match="choose one of comtrade, dbnomics, ecb, imf"):
        fetch_source("bloomberg", "X/Y")


@pytest.mark.parametrize(
    ("recorded", "error", "code"),
    [
        (Recorded(status=500), SourceError, "source_unavailable"),
        (Recorded(status=400), InvalidQueryError, "invalid_query"),
        (Recorded(error=lambda r: httpx.ReadTimeout("slow", request=r)), SourceTimeoutError, "source_timeout"),
        (Recorded(error=lambda r: httpx.ConnectError("refused", request=r)), SourceError, "source_unavailable"),
        (Recorded(body=b"<html>maintenance</html>"), SourceResponseError, "source_bad_response"),
        (Recorded(body=b'{"header": {}}'), SourceResponseError, "source_bad_response"),
    ],
)
def test_source_failures_become_typed_errors(recorded: Recorded, error: type, code: str) -> None:
    with pytest.raises(error) as caught:
        _fetch("imf", IMF_QUERY, recorded)
    assert caught.value.code == code and IMF_QUERY in str(caught.value)


def test_unknown_key_at_the_source_is_an_empty_result() -> None:
    with pytest.raises(EmptyResultError, match="HTTP 404"):
        _fetch("imf", "IMTS/CHN.XG_FOB_USD.ZZZ.A")


@pytest.mark.parametrize(
    "body",
    [
        {"count": 0, "data": [], "error": ""},
        {"series": {"docs": [], "num_found": 0}},
    ],
)
def test_empty_answers_are_empty_results(body: dict) -> None:
    source, query = ("comtrade", COMTRADE_QUERY) if "data" in body else ("dbnomics", DBNOMICS_QUERY)
    with pytest.raises(EmptyResultError):
        _fetch(source, query, Recorded(body=json.dumps(body).encode()))


def test_all_missing_values_are_an_empty_result() -> None:
    body = json.loads((RECORDED / "dbnomics_imf_dot_chn_rus_imports_annual.json").read_text())
    body["series"]["docs"][0]["value"] = ["NA"] * 6
    with pytest.raises(EmptyResultError, match="no observations"):
        _fetch("dbnomics", DBNOMICS_QUERY, Recorded(body=json.dumps(body).encode()))


# -- the store: a vintage with its source, only when the data changed ---------------------


def test_fetch_is_stored_as_a_vintage_with_source_query_and_retrieval_time(store) -> None:
    result = _fetch("dbnomics", DBNOMICS_QUERY)
    (outcome,) = store.sources.store_fetch(result)
    assert outcome.created and outcome.series_id == "dbnomics.IMF.DOT.A.CN.TMG_CIF_USD.RU"
    record = store.sources.fetch_record(outcome.vintage.vintage_id)
    assert record is not None
    assert (record.source, record.query) == ("dbnomics", DBNOMICS_QUERY)
    assert record.retrieved_at == result.retrieved_at and record.last_updated == result.series[0].last_updated
    stored = store.series.read_series(outcome.series_id)
    assert stored.series["2019"] == 60257150830.0 and str(stored.series.index[0]) == "2016"
    assert stored.meta.tags["source"] == "dbnomics" and "dbnomics" in (stored.vintage.release or "")


def test_refetching_identical_data_makes_no_new_vintage(store) -> None:
    first = store.sources.store_fetch(_fetch("imf", IMF_QUERY))[0]
    again = store.sources.store_fetch(_fetch("imf", IMF_QUERY))[0]
    assert not again.created and again.vintage.vintage_id == first.vintage.vintage_id
    assert len(store.series.list_vintages(first.series_id)) == 1
    assert again.fetch is not None and again.fetch.vintage_id == first.vintage.vintage_id


def test_revised_data_makes_a_new_vintage(store) -> None:
    first = store.sources.store_fetch(_fetch("imf", IMF_QUERY))[0]
    body = json.loads((RECORDED / "imf_imts_chn_rus_exports_annual.json").read_text())
    body["dataSets"][0]["series"]["0:0:0:0"]["observations"]["4"] = ["50700.000"]
    revised = store.sources.store_fetch(_fetch("imf", IMF_QUERY, Recorded(body=json.dumps(body).encode())))[0]
    assert revised.created and revised.vintage.number == 2
    diff = store.series.revisions(first.series_id, first.vintage.vintage_id, revised.vintage.vintage_id)
    assert diff["new"].tolist() == [50700.0]


def test_series_id_override_needs_a_single_series(store) -> None:
    (outcome,) = store.sources.store_fetch(_fetch("comtrade", COMTRADE_QUERY), series_id="cn_ru_exports")
    assert store.series.read_series("cn_ru_exports").series.size == 5 and outcome.created


def test_fetch_into_a_series_of_another_frequency_is_a_conflict(store) -> None:
    monthly = pd.Series([1.0, 2.0], index=pd.period_range("2020-01", periods=2, freq="M"))
    store.series.save_series(SeriesMeta("cn_ru_exports", frequency="monthly"), monthly)
    with pytest.raises(ConflictError):
        store.sources.store_fetch(_fetch("comtrade", COMTRADE_QUERY), series_id="cn_ru_exports")
    assert len(store.series.list_vintages("cn_ru_exports")) == 1


# -- live: one per source, only with network ----------------------------------------------


def _online(host: str) -> bool:
    if os.environ.get("CI"):
        return False
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        return False
    return True


LIVE = [
    ("imf", "api.imf.org", IMF_QUERY),
    ("ecb", "data-api.ecb.europa.eu", "EXR/M.CNY.EUR.SP00.A"),
    ("comtrade", "comtradeapi.un.org", COMTRADE_QUERY),
    ("dbnomics", "api.db.nomics.world", DBNOMICS_QUERY),
]


@pytest.mark.network
@pytest.mark.parametrize(("source", "host", "query"), LIVE, ids=[s for s, _, _ in LIVE])
def test_live_source_answers(source: str, host: str, query: str) -> None:
    if not _online(host):
        pytest.skip(f"no network to {host}")
    result = fetch_source(source, query, options=SourceOptions(timeout_seconds=30))
    assert result.series and all(len(s.values.dropna()) > 0 for s in result.series)


# -- service roots: a mirror, a proxy or a local stand-in instead of the public address ----------


@pytest.mark.parametrize(
    ("source", "query", "path"),
    [
        ("imf", IMF_QUERY, "/mirror/imf/data/IMF.STA,IMTS/CHN.XG_FOB_USD.RUS.A"),
        ("ecb", ECB_QUERY, "/mirror/ecb/data/ETR/M.AT.RU.IMP"),
        ("comtrade", COMTRADE_QUERY, "/mirror/comtrade/public/v1/preview/C/A/HS"),
        ("dbnomics", DBNOMICS_QUERY, "/mirror/dbnomics/series/IMF/DOT/A.CN.TMG_CIF_USD.RU"),
    ],
)
def test_base_url_option_moves_each_source_to_the_given_root(source: str, query: str, path: str) -> None:
    recorded = Recorded(body=(RECORDED / _recording(source)).read_bytes())
    roots = {name: f"http://mirror.test/mirror/{name}/" for name in list_sources()}
    fetch_source(source, query, options=SourceOptions(transport=recorded.transport, base_urls=roots))
    (request,) = recorded.requests
    assert (request.url.host, request.url.path) == ("mirror.test", path)


def _recording(source: str) -> str:
    return {
        "imf": "imf_imts_chn_rus_exports_annual.json",
        "ecb": "ecb_sdmx2_monthly.json",
        "comtrade": "comtrade_chn_rus_exports_annual.json",
        "dbnomics": "dbnomics_imf_dot_chn_rus_imports_annual.json",
    }[source]


def test_sources_not_given_a_root_keep_their_public_address() -> None:
    recorded = Recorded()
    options = SourceOptions(transport=recorded.transport, base_urls={"ecb": "http://mirror.test/ecb"})
    assert fetch_source("imf", IMF_QUERY, options=options).series
    assert recorded.requests[0].url.host == "api.imf.org"
    assert "mirror.test" in repr(options)


@pytest.mark.parametrize(
    ("source", "query"),
    [("imf", IMF_QUERY), ("ecb", ECB_QUERY), ("comtrade", COMTRADE_QUERY), ("dbnomics", DBNOMICS_QUERY)],
)
def test_local_stand_in_answers_every_source_over_http(source: str, query: str) -> None:
    # The README test runs `tradecast fetch` in another process against this server.
    with recorded_sources_server() as stand_in:
        result = fetch_source(source, query, options=SourceOptions(base_urls=stand_in.urls, timeout_seconds=5))
    assert result.series and result.series[0].values.notna().any()
    assert len(stand_in.paths) == 1 and stand_in.paths[0].startswith("/" + PUBLIC_HOSTS[source])


def test_local_stand_in_says_404_for_what_it_has_not_recorded() -> None:
    with recorded_sources_server() as stand_in, pytest.raises(EmptyResultError):
        fetch_source("dbnomics", "IMF/DOT/A.XX.TXG_FOB_USD.RU", options=SourceOptions(base_urls=stand_in.urls))


PUBLIC_HOSTS = {
    "imf": "api.imf.org",
    "ecb": "data-api.ecb.europa.eu",
    "comtrade": "comtradeapi.un.org",
    "dbnomics": "api.db.nomics.world",
}
