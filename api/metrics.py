"""Prometheus metrics of one app instance (its own registry, so tests can build many apps).

With several uvicorn workers each process counts its own requests; scrape each worker or
run one worker per port behind the balancer.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Request counts and latency by route, fit durations by model, cache hits and jobs."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tradecast_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tradecast_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fit_duration = Histogram(
            "tradecast_fit_duration_seconds",
            "Time to fit and forecast one series, by requested model.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "tradecast_forecast_cache_hits", "Forecasts served from the cache.", registry=self.registry
        )
        self.cache_misses = Counter(
            "tradecast_forecast_cache_misses", "Forecasts that had to be fitted.", registry=self.registry
        )
        self.cache_size = Gauge(
            "tradecast_forecast_cache_entries", "Entries held in the forecast cache.", registry=self.registry
        )
        self.jobs = Counter("tradecast_jobs", "Batch jobs by final status.", ["status"], registry=self.registry)

    def render(self) -> bytes:
        """The exposition text."""
        return bytes(generate_latest(self.registry))
