"""The README's examples run as written: every ```python block, and every inline forecast body."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
# A curl that posts a JSON body: the path after the host, then the body in single quotes.
# A command may continue over lines ending in a backslash.
CURL_BODY = re.compile(r"curl (?:[^\n]|\\\n)*?localhost:8000(/v1/[\w/]+)(?:[^\n]|\\\n)*?-d '(\{.*?\})'", re.DOTALL)


def test_readme_python_examples_run() -> None:
    blocks = PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 2 and any("forecast_outlook" in b for b in blocks)
    namespace: dict[str, object] = {}
    # The blocks run in order in one namespace, as a reader would paste them into a notebook.
    with contextlib.redirect_stdout(io.StringIO()) as out:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    printed = out.getvalue()
    assert "observed" in printed and "periods_observed" in printed
    full_year = namespace["fy"]
    assert str(full_year.index[0]) == "2021" and int(full_year["periods_observed"].iloc[0]) == 6
    assert str(namespace["vs_2019"].attrs["base"]) == "2019"


def inline_forecast_bodies() -> list[dict[str, object]]:
    found = CURL_BODY.findall(README.read_text(encoding="utf-8"))
    return [json.loads(body) for path, body in found if path == "/v1/forecasts" and '"data"' in body]


def test_readme_has_growth_and_full_year_rest_examples() -> None:
    bodies = inline_forecast_bodies()
    assert any("growth" in b and "full_year" in b for b in bodies)
    assert any(b.get("frequency") == "annual" and "growth" in b for b in bodies)


@pytest.mark.parametrize("body", inline_forecast_bodies(), ids=lambda b: f"{b['frequency']}-{sorted(b)}")
def test_readme_rest_example_bodies_are_accepted(client, body) -> None:
    response = client.post("/v1/forecasts", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert len(out["forecast"]) == body["horizon"]
    if "growth" in body:
        assert out["growth"]["base"] == str(body["growth"]["base"]) and out["growth"]["vs_base"]
    if "full_year" in body:
        assert out["full_year"]["periods_observed"] == 6


def test_readme_structure_examples_are_coherent() -> None:
    namespace: dict[str, object] = {}
    for block in PYTHON_BLOCK.findall(README.read_text(encoding="utf-8")):
        exec(compile(block, str(README), "exec"), namespace)
    coherent = namespace["coherent"]
    wide = coherent.pivot(index="ds", columns="unique_id", values="mean")
    parts = wide["ru_cn_exports"] + wide["ru_cn_imports"]
    assert ((wide["ru_cn_total"] - parts).abs() <= 1e-9 * wide["ru_cn_total"].abs()).all()
    shares = namespace["share_fc"]
    assert (shares.groupby("ds")["mean"].sum() - 1.0).abs().max() < 1e-9
    assert len(namespace["fc_events"]) == 6
