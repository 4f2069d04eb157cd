"""The usage example of docs/paths.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "paths.md"


def test_paths_doc_examples_run_as_written(capsys: object) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks, "docs/paths.md has no python example"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    fy = namespace["fy"]
    assert list(fy.columns)[:2] == ["observed", "periods_observed"]  # type: ignore[attr-defined]
    assert str(namespace["vs_base"].attrs["base"]) == "2005"  # type: ignore[attr-defined]
