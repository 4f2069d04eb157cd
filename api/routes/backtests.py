"""Backtests: rolling-origin evaluation of one or more models on a series."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep, SettingsDep, StoreDep
from api.schemas import BacktestCreate, BacktestRead

__all__ = ["router"]

router = APIRouter(prefix="/backtests", tags=["backtests"])


@router.post("", response_model=BacktestRead)
def create_backtest(body: BacktestCreate, service: ServiceDep, store: StoreDep, settings: SettingsDep) -> BacktestRead:
    """Evaluate models by rolling-origin backtest: metrics per model and per window."""
    return service.backtest(body, store, settings)
