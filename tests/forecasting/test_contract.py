"""One contract test over every registered model x test_params() x check."""

from __future__ import annotations

from typing import Any

import pytest

from forecasting.registry import REGISTRY
from forecasting.testing import CHECKS


def _cases() -> list[Any]:
    cases = []
    for name, cls in REGISTRY.items():
        for i, params in enumerate(cls.test_params()):
            for check_name, check in CHECKS.items():
                cases.append(pytest.param(cls, params, check, id=f"{name}[{i}]-{check_name}"))
    return cases


@pytest.mark.parametrize(("cls", "params", "check"), _cases())
def test_contract(cls: Any, params: dict[str, Any], check: Any) -> None:
    check(cls, params)
