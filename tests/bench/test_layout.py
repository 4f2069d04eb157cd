"""The lab stays outside the product: no product module imports ``bench`` or holds
benchmark acceptance bounds or factor-learning code, and the package build leaves it out."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("forecasting", "data", "api", "reports")
# Names that belong to the lab: M3 acceptance checks and the learning of factor tables.
LAB_NAMES = {"COVERAGE_BOUNDS", "interval_checks", "learn_factor_tables", "drift_corrections", "table_keys", "run_m3"}


def _product_modules() -> list[Path]:
    return sorted(p for package in PRODUCT for p in (ROOT / package).rglob("*.py"))


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_product_module_imports_the_lab():
    offenders = [
        str(path.relative_to(ROOT))
        for path in _product_modules()
        if any(name == "bench" or name.startswith("bench.") for name in _imported(ast.parse(path.read_text())))
    ]
    assert len(_product_modules()) > 20
    assert offenders == []


def test_no_product_module_defines_lab_code():
    found = {}
    for path in _product_modules():
        for node in ast.parse(path.read_text()).body:
            targets = [node.name] if isinstance(node, ast.FunctionDef | ast.ClassDef) else []
            if isinstance(node, ast.Assign | ast.AnnAssign):
                nodes = node.targets if isinstance(node, ast.Assign) else [node.target]
                targets = [t.id for t in nodes if isinstance(t, ast.Name)]
            for name in set(targets) & LAB_NAMES:
                found[name] = str(path.relative_to(ROOT))
    assert found == {}


def test_package_build_leaves_the_lab_and_scripts_out():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(where=str(ROOT), include=include)
    assert {"forecasting", "forecasting.calibration", "data", "api", "reports"} <= set(packages)
    assert not [p for p in packages if p.split(".")[0] in {"bench", "scripts", "tests"}]
    assert not (ROOT / "scripts").exists()


def test_tradecast_command_has_no_bench_group():
    cli = pytest.importorskip("api.cli")
    result = CliRunner().invoke(cli.app, ["bench", "--help"])
    assert result.exit_code != 0
    assert "bench" not in CliRunner().invoke(cli.app, ["--help"]).output
