"""The service layer used without HTTP: plain requests in, plain results out."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import api.service
from api.cache import forecast_key
from api.convert import inline_to_series
from api.metrics import Metrics
from api.service import (
    BacktestRequest,
    BatchRequest,
    ForecastRequest,
    ForecastService,
    InlineSeries,
    Limits,
    SeriesSource,
)
from data import SeriesMeta, Store, VintageInfo
from forecasting.exceptions import InsufficientDataError, InvalidParameterError, WorkerLostError
from forecasting.executor import InProcessExecutor, TaskResult
from tests.api.conftest import annual

_HTTP_MODULES = ("fastapi", "starlette", "pydantic", "api.schemas", "api.convert", "api.errors", "api.deps")


def _inline(n: int = 20, base: float = 50.0, missing: str = "error") -> SeriesSource:
    rows = annual(n, base=base)
    return SeriesSource(
        inline=InlineSeries(tuple(r["ds"] for r in rows), tuple(r["y"] for r in rows), "annual"), missing=missing
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'service.db'}")
    store.create_schema()
    yield store
    store.dispose()


@pytest.fixture
def service() -> Iterator[ForecastService]:
    service = ForecastService(
        Limits(default_model="naive", max_horizon=10), Metrics(), InProcessExecutor(), inline_to_series, vintage_ttl=60
    )
    service.start()
    yield service
    service.shutdown()


def test_service_package_imports_nothing_of_http():
    root = Path(api.service.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad = [n for n in names if n.split(".")[0] in _HTTP_MODULES or n.startswith(_HTTP_MODULES)]
            assert not bad, f"{path.name} imports {bad}"


def test_inline_forecast_is_archived_then_served_from_the_cache(service, store):
    request = ForecastRequest(_inline(), horizon=3, levels=(95, 80, 95))
    result, cached = service.forecast(request, store)
    assert not cached and result.model == "naive" and result.levels == (80, 95)
    assert list(result.frame.columns) == ["mean", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert isinstance(result.frame.index, pd.PeriodIndex) and len(result.frame) == 3
    assert result.data_hash == request.source.inline.digest and result.vintage is None
    assert store.archive.get_forecast(result.forecast_id).model == "naive"
    again, cached = service.forecast(request, store)
    assert cached and again is result
    assert service.cached_forecast(request) is result


def test_stored_forecast_is_found_by_the_fast_path_after_one_fit(service, store):
    store.series.save_series(SeriesMeta("s", frequency="annual"), inline_to_series(_inline().inline))
    request = ForecastRequest(SeriesSource(series_id="s"), horizon=2)
    assert service.cached_forecast(request) is None  # nothing remembered yet
    result, _ = service.forecast(request, store)
    assert result.vintage is not None and result.vintage.number == 1
    assert service.cached_forecast(request) is result
    service.forget_vintages("s")
    assert service.cached_forecast(request) is None


def test_cache_key_is_the_same_for_default_and_explicit_inline_kind():
    common = {"series_id": None, "vintage": None, "data_hash": "sha256:x", "frequency": "annual"}
    spec = {"missing": "error", "model": "naive", "transform": "none", "horizon": 2, "levels": (80,)}
    assert forecast_key(**common, kind=None, **spec) == forecast_key(**common, kind="level", **spec)
    assert forecast_key(**common, kind=None, **spec) != forecast_key(**common, kind="share", **spec)
    stored = {**common, "series_id": "s", "data_hash": None, "kind": None}
    first = VintageInfo(1, "s", 1, datetime(2026, 1, 1, tzinfo=UTC), None, 20, "a" * 64)
    assert forecast_key(**{**stored, "vintage": first}, **spec) != forecast_key(
        **{**stored, "vintage": replace(first, vintage_id=2)}, **spec
    )


def test_cache_key_tells_a_reused_vintage_id_from_the_old_vintage():
    spec = {"missing": "error", "model": "naive", "transform": "none", "horizon": 2, "levels": (80,)}
    stored = {"series_id": "s", "data_hash": None, "frequency": None, "kind": None}
    old = VintageInfo(1, "s", 1, datetime(2026, 1, 1, tzinfo=UTC), None, 20, "a" * 64)
    for reused in (replace(old, created_at=datetime(2026, 1, 2, tzinfo=UTC)), replace(old, checksum="b" * 64)):
        assert forecast_key(**stored, vintage=old, **spec) != forecast_key(**stored, vintage=reused, **spec)
    assert forecast_key(**stored, vintage=old, **spec) == forecast_key(**stored, vintage=replace(old), **spec)


def test_limits_are_refused_with_details(service, store):
    with pytest.raises(InvalidParameterError, match="TRADECAST_MAX_HORIZON") as raised:
        service.forecast(ForecastRequest(_inline(), horizon=11), store)
    assert raised.value.details == {"field": "horizon", "limit": 10, "value": 11}  # type: ignore[attr-defined]
    with pytest.raises(InvalidParameterError, match="unknown model"):
        service.forecast(ForecastRequest(_inline(), horizon=2, model="nope"), store)


def test_batch_gives_an_error_item_for_a_bad_series_and_keeps_order(service, store):
    request = BatchRequest((_inline(), _inline(2), _inline(base=90.0)), horizon=2)
    items = service.forecast_batch(request, store)
    assert [it.index for it in items] == [0, 1, 2]
    assert [it.result is not None for it in items] == [True, False, True]
    assert isinstance(items[1].error, InsufficientDataError)


def test_batch_item_whose_worker_died_is_an_error_item(service, store, monkeypatch):
    from concurrent.futures import Future

    def lost(*args, **kwargs):
        future = Future()
        future.set_result(TaskResult(error=WorkerLostError("a worker process died.")))
        return future

    monkeypatch.setattr(service.executor, "submit", lost)
    items = service.forecast_batch(BatchRequest((_inline(),), horizon=2), store)
    assert items[0].result is None and getattr(items[0].error, "code", "") == "worker_lost"


def test_backtest_scores_each_model_and_reports_the_missing_value_note(service, store):
    source = _inline(24, missing="latest_stretch")
    values = list(source.inline.values)
    values[3] = None
    source = SeriesSource(inline=InlineSeries(source.inline.labels, tuple(values), "annual"), missing="latest_stretch")
    result = service.backtest(BacktestRequest(source, horizon=2, windows=2, models=("naive", "drift")), store)
    assert list(result.model_scores["model"]) == ["naive", "drift"]
    assert len(result.window_scores) == 4 and set(result.frame["model"]) == {"naive", "drift"}
    assert result.warnings[0].code == "missing_values"
