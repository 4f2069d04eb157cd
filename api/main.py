"""Application factory for the REST service."""

from __future__ import annotations

from fastapi import FastAPI

from api.config import ApiSettings, get_settings

__all__ = ["create_app"]


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the FastAPI application; nothing is built at import time."""
    settings = settings or get_settings()
    app = FastAPI(title="tradecast", version="0.1.0")
    app.state.settings = settings

    @app.get("/health", tags=["health"])
    def read_health() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    return app
