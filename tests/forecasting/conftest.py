"""Shared fixtures of the forecasting tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "calibrate_intervals.py"


@pytest.fixture(scope="session")
def calibration_script() -> ModuleType:
    """``scripts/calibrate_intervals.py`` imported as a module (it is not a package)."""
    spec = importlib.util.spec_from_file_location("calibrate_intervals", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["calibrate_intervals"] = module
    spec.loader.exec_module(module)
    return module
