"""Liveness, readiness and Prometheus metrics (outside ``/v1``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import MetricsDep, ServiceDep, StoreDep
from api.metrics import CONTENT_TYPE
from api.schemas import ErrorRead, HealthRead, ReadyRead

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthRead)
async def read_health() -> HealthRead:
    """Liveness: the process answers."""
    return HealthRead()


@router.get("/ready", response_model=ReadyRead, responses={503: {"model": ErrorRead}})
def read_ready(store: StoreDep, service: ServiceDep) -> ReadyRead:
    """Readiness: the store answers and the fitting workers are warm (503 says what is warming)."""
    store.check_connection()
    service.warming.check()
    return ReadyRead(warm_up=service.warming.describe())


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        401: {"model": ErrorRead},
    },
)
def read_metrics(metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests and latency by route, fit durations, cache hits."""
    return Response(metrics.render(), media_type=CONTENT_TYPE)
