"""Backtests: rolling-origin evaluation of one or more models on a series."""

from __future__ import annotations

from fastapi import APIRouter

from api.convert import backtest_request, backtest_to_read
from api.deps import ServiceDep, StoreDep
from api.schemas import BacktestCreate, BacktestRead

__all__ = ["router"]

router = APIRouter(prefix="/backtests", tags=["backtests"])


@router.post("", response_model=BacktestRead)
def create_backtest(body: BacktestCreate, service: ServiceDep, store: StoreDep) -> BacktestRead:
    """Evaluate models by rolling-origin backtest: metrics per model and per window."""
    return backtest_to_read(service.backtest(backtest_request(body), store))
