"""``GET /v1/models``: the registered forecasting models and their tags."""

from __future__ import annotations

from fastapi import APIRouter

from api.convert import model_to_read
from api.deps import SettingsDep
from api.schemas import ModelsPage
from forecasting import list_models

__all__ = ["router"]

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", response_model=ModelsPage)
def read_models(settings: SettingsDep) -> ModelsPage:
    """List the registered models and what they support."""
    data = [model_to_read(name, settings.default_model) for name in list_models()]
    return ModelsPage(data=data, count=len(data))
