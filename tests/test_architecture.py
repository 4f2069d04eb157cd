"""The package layout rules of STYLE.md, checked on the source (no import of the product).

- imports point one way: forecasting <- data <- reports <- api; nothing imports bench/;
- no import cycle between product modules (function-level imports included);
- no function over 60 lines and no class over 400 lines (docstrings excepted);
- no parameter or attribute annotated ``store: Any``: the store is a :class:`data.Store` (or the
  one repository a function needs), so that mypy checks every call on it;
- no name starting with ``_`` (a dunder excepted) taken from another project module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("forecasting", "data", "reports", "api")
#: What each product package may import from the project.
ALLOWED = {
    "forecasting": {"forecasting"},
    "data": {"forecasting", "data"},
    "reports": {"forecasting", "data", "reports"},
    "api": {"forecasting", "data", "reports", "api"},
}
PROJECT = {*PACKAGES, "bench", "scripts", "tests"}
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic revisions are data, not code paths
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of the project modules that ``module`` imports (relative imports resolved)."""
    names: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n.split(".")[0] in PROJECT}


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The product module a dotted import name refers to (its longest known prefix)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_one_way_in_module(module):
    package = module.split(".")[0]
    wrong = sorted(n for n in _imports(MODULES[module], module) if n.split(".")[0] not in ALLOWED[package])
    assert not wrong, f"{module} imports {wrong}; {package} may import only {sorted(ALLOWED[package])}"


def test_no_import_cycle_between_product_modules():
    graph = {
        m: {r for n in _imports(p, m) if (r := _resolve(n)) and r != m and not m.startswith(r + ".")}
        for m, p in MODULES.items()
    }
    # A package importing its own submodules through __init__ is not a cycle of code paths.
    graph = {m: {r for r in deps if not r.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def _length_without_docstring(node: ast.AST) -> int:
    length = node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        length -= first.end_lineno - first.lineno + 1  # type: ignore[operator]
    return length


def test_functions_and_classes_stay_small():
    too_long = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                limit = MAX_FUNCTION_LINES
            elif isinstance(node, ast.ClassDef):
                limit = MAX_CLASS_LINES
            else:
                continue
            if (n := _length_without_docstring(node)) > limit:
                too_long.append(f"{module}.{node.name}: {n} lines (limit {limit})")
    assert not too_long, "\n".join(too_long)


def _untyped_stores(path: Path) -> list[int]:
    """Lines of ``path`` where a parameter or variable named ``store`` (or ``*_store``) is annotated ``Any``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.arg):
            name, annotation = node.arg, node.annotation
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name | ast.Attribute):
            target = node.target
            name, annotation = (target.id if isinstance(target, ast.Name) else target.attr), node.annotation
        else:
            continue
        if (
            (name == "store" or name.endswith("_store"))
            and annotation is not None
            and ast.unparse(annotation)
            in {
                "Any",
                "typing.Any",
                "Any | None",
                "Optional[Any]",
            }
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_no_store_typed_any():
    untyped = [f"{module}:{line}" for module, path in MODULES.items() for line in _untyped_stores(path)]
    assert not untyped, "annotate the store as data.Store (or the repository it needs), not Any: " + ", ".join(untyped)


def test_checker_sees_a_cycle_and_a_wrong_import(tmp_path):
    """The checks above can fail: a hand-made module that breaks both rules is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from bench.m3 import run_m3\nfrom api.main import create_app\n")
    assert _imports(bad, "forecasting.bad") == {"bench.m3", "bench.m3.run_m3", "api.main", "api.main.create_app"}
    assert _resolve("forecasting.registry.get_model") == "forecasting.registry"


def _private_uses(path: Path, module: str) -> list[str]:
    """Names starting with ``_`` (not dunders) that ``module`` takes from another project module:
    ``from x import _name``, or ``x._name`` on a project module imported as ``x``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    bound: dict[str, str] = {}  # local name -> project module it is
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if _resolve(target) == target:
                    bound[alias.asname or alias.name] = target
                if alias.name.startswith("_") and not alias.name.startswith("__") and node.module != module:
                    found.append(f"from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PROJECT and alias.asname:
                    bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            name = node.attr
            if name.startswith("_") and not name.startswith("__") and bound[node.value.id] != module:
                found.append(f"{bound[node.value.id]}.{name}")
    return found


def test_no_private_name_crosses_a_module():
    crossing = [f"{m}: {use}" for m, path in MODULES.items() for use in _private_uses(path, m)]
    assert not crossing, "\n".join(crossing)


def test_private_name_checker_sees_both_forms(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("import forecasting.core as core\nfrom forecasting.core import _x\ncore._y()\n", encoding="utf-8")
    assert _private_uses(path, "api.mod") == ["from forecasting.core import _x", "forecasting.core._y"]


def test_checker_sees_a_store_typed_any(tmp_path):
    """``store: Any`` is caught on a parameter and on an annotated attribute; a typed store is not."""
    untyped = tmp_path / "untyped.py"
    untyped.write_text(
        "from typing import Any\n"
        "def f(store: Any, n: int) -> None: ...\n"
        "class C:\n"
        "    report_store: Any | None\n"
        "    def __init__(self, *, store: 'Store', other: Any) -> None: ...\n"
    )
    assert _untyped_stores(untyped) == [2, 4]
