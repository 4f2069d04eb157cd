"""Backtests: rolling-origin evaluation of one or more models on a series."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.convert import backtest_request, backtest_to_read
from api.deps import ServiceDep, StoreDep
from api.schemas import BacktestCreate, BacktestRead
from api.waiting import await_futures, client_gone_response

__all__ = ["router"]

router = APIRouter(prefix="/backtests", tags=["backtests"])


@router.post("", response_model=BacktestRead)
async def create_backtest(
    body: BacktestCreate, request: Request, service: ServiceDep, store: StoreDep
) -> BacktestRead | Response:
    """Evaluate models by rolling-origin backtest: metrics per model and per window."""
    # Reading and scoring in the threadpool; the backtest itself awaited on the event loop.
    fit = await run_in_threadpool(service.start_backtest, backtest_request(body), store)
    outcomes = await await_futures([fit.future], request.is_disconnected)
    if outcomes is None:
        return client_gone_response()
    result = await run_in_threadpool(service.finish_backtest, fit, outcomes[0])
    return backtest_to_read(result)
