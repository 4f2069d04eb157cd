"""The request examples of ``/docs``: one per request body, on the bundled samples.

Each example answers 2xx when posted, in the order of :data:`REQUEST_EXAMPLES`, to a
service loaded with ``tradecast load-samples`` (the test ``tests/api/test_openapi_examples.py``
posts them all, the source queries against recorded answers). Path parameters get an example
too (:data:`PATH_EXAMPLES`), so "Try it out" works as shown. They are added to the generated
OpenAPI document by :func:`add_request_examples`, leaving the schemas themselves alone.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PATH_EXAMPLES", "REQUEST_EXAMPLES", "add_request_examples"]

_TOTAL = "cn_ru_trade_total_annual"  # GACC annual China-Russia trade, USD bn (gaps before 2000)

#: (method, path) -> (content type, example body), in an order that works when posted one by one.
REQUEST_EXAMPLES: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("post", "/v1/series"): (
        "application/json",
        {
            "series_id": "cn_ru_rail_freight_annual",
            "name": "China-Russia rail freight (illustrative)",
            "frequency": "annual",
            "unit": "million t",
            "tags": {"reporter": "CN", "partner": "RU"},
            "data": [{"ds": str(2014 + i), "y": y} for i, y in enumerate([9.8, 10.4, 11.9, 13.1, 14.0, 15.2, 16.9])],
        },
    ),
    ("post", "/v1/forecasts"): (
        "application/json",
        {"series_id": _TOTAL, "horizon": 3, "levels": [80, 95], "missing": "latest_stretch", "model": "auto"},
    ),
    ("post", "/v1/forecasts/batch"): (
        "application/json",
        {
            "series": [
                {"series_id": "cn_ru_exports_annual", "missing": "latest_stretch"},
                {"series_id": "cn_ru_imports_annual", "missing": "latest_stretch"},
            ],
            "horizon": 3,
            "model": "theta",
        },
    ),
    ("post", "/v1/backtests"): (
        "application/json",
        {
            "series_id": _TOTAL,
            "missing": "latest_stretch",
            "horizon": 2,
            "windows": 3,
            "models": ["naive", "theta"],
        },
    ),
    ("post", "/v1/structures"): (
        "application/json",
        {
            "name": "cn-ru-flows",
            "kind": "hierarchy",
            "hierarchy": {_TOTAL: ["cn_ru_exports_annual", "cn_ru_imports_annual"]},
            "missing": "model",
            "description": "China-Russia trade as exports plus imports (GACC, annual).",
        },
    ),
    ("post", "/v1/structures/{name}/forecasts"): ("application/json", {"horizon": 3, "levels": [80, 95]}),
    # The total as the structure shows it (its coherent figures), not its own forecast.
    ("post", "/v1/structures/{name}/forecasts/{series_id}"): ("application/json", {"horizon": 2, "levels": [80, 95]}),
    ("post", "/v1/fetch"): ("application/json", {"source": "dbnomics", "query": "IMF/DOT/A.CN.TMG_CIF_USD.RU"}),
    ("post", "/v1/refreshes"): (
        "application/json",
        {"name": "imf-cn-ru-exports", "source": "imf", "query": "IMTS/CHN.XG_FOB_USD.RUS.A", "schedule": "0 6 * * 1"},
    ),
    ("post", "/v1/reports"): (
        "application/json",
        {
            "name": "cn-ru-weekly",
            "title": "China-Russia trade outlook",
            "series_ids": [_TOTAL],
            "horizon": 3,
            "schedule": "0 7 * * 1",
            "series_options": {_TOTAL: {"missing": "model"}},
        },
    ),
    ("put", "/v1/reports/{name}"): (  # a PUT replaces the whole definition
        "application/json",
        {
            "title": "China-Russia trade outlook (weekly)",
            "series_ids": [_TOTAL, "cn_ru_exports_annual"],
            "horizon": 4,
            "schedule": "0 7 * * 1",
            "series_options": {_TOTAL: {"missing": "model"}, "cn_ru_exports_annual": {"missing": "model"}},
        },
    ),
    ("post", "/v1/reports/{name}/runs"): ("application/json", {"force": True}),
}

#: (path, parameter) -> example value of a path parameter (sample structures, the example report).
PATH_EXAMPLES: dict[tuple[str, str], str] = {
    ("/v1/structures/{name}/forecasts", "name"): "cn-ru-trade",
    ("/v1/structures/{name}/forecasts/{series_id}", "name"): "cn-ru-trade",
    ("/v1/structures/{name}/forecasts/{series_id}", "series_id"): _TOTAL,
    ("/v1/reports/{name}", "name"): "cn-ru-weekly",
    ("/v1/reports/{name}/runs", "name"): "cn-ru-weekly",
}


def add_request_examples(spec: dict[str, Any]) -> dict[str, Any]:
    """Put :data:`REQUEST_EXAMPLES` and :data:`PATH_EXAMPLES` into an OpenAPI document; return it."""
    paths = spec.get("paths", {})
    for (method, path), (content_type, body) in REQUEST_EXAMPLES.items():
        operation = paths.get(path, {}).get(method)
        content = (operation or {}).get("requestBody", {}).get("content", {})
        if content_type in content:
            content[content_type]["example"] = body
    for (path, name), value in PATH_EXAMPLES.items():
        for operation in paths.get(path, {}).values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter.get("name") == name:
                    parameter["example"] = value
    return spec
