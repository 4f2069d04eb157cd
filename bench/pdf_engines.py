"""PDF engines compared on the sample report: headless Chromium (what the product uses) and
WeasyPrint (not a dependency; measured when importable).

1. Loads the bundled samples into a temporary SQLite store and runs the sample report
   ``china-russia`` as of 2026-01-12 (or reads ``--html``).
2. Prints the page with each engine ``--repeat`` times (default 3): wall time per print,
   PDF bytes, pages (``pdfinfo``).
3. Fidelity: page 1 of each PDF rasterised by ``pdftoppm`` at 60 dpi and compared with the
   other engine's: mean absolute pixel difference (0..1) and the share of pixels differing by
   more than 0.1 (a line break falling elsewhere shifts everything below it, so these bound
   the difference; look at the rasters kept in ``var/bench/pdf_engines/``).
4. Install weight: the installed size of Debian's ``chromium`` and ``chromium-common``
   (``dpkg-query``) and of WeasyPrint's Python packages (its distributions' files).

Run: ``make bench-pdf`` or ``.venv/bin/python -m bench.pdf_engines [--html page.html] [--repeat 3]``.
To include WeasyPrint, install it in another environment and point ``--weasyprint-python``
at that interpreter (the product's environment stays without it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

from reports.pdf import html_to_pdf

OUT = Path("var/bench/pdf_engines")
_WEASY = """import sys, time
from weasyprint import HTML
html = open(sys.argv[1], encoding="utf-8").read()
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); pdf = HTML(string=html).write_pdf(); times.append(time.perf_counter() - t)
open(sys.argv[2], "wb").write(pdf)
print(" ".join(f"{x:.3f}" for x in times))
"""


def _sample_html() -> str:
    from data import Store
    from data.samples import load_samples
    from reports.jobs import run_report
    from reports.samples import ensure_sample_report
    from reports.store import ReportStore

    with tempfile.TemporaryDirectory() as folder:
        store = Store.from_url(f"sqlite:///{folder}/samples.db")
        store.create_schema()
        try:
            load_samples(store)
            ensure_sample_report(store, run_now=False)
            run = run_report("china-russia", datetime(2026, 1, 12, 4, tzinfo=UTC), store)
            return ReportStore.for_store(store).get_html(run.run_id)
        finally:
            store.dispose()


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def _page_one(pdf: Path) -> np.ndarray:
    stem = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)], check=True
    )
    return np.asarray(mpimg.imread(stem.with_suffix(".png")))[..., :3]


def _weight(python: str | None) -> dict[str, object]:
    sizes = subprocess.run(
        ["dpkg-query", "-W", "-f=${Installed-Size}\\n", "chromium", "chromium-common"], capture_output=True, text=True
    ).stdout.split()
    out: dict[str, object] = {"chromium_mb": round(sum(int(s) for s in sizes) / 1024, 1)}
    if python:
        code = (
            "import importlib.metadata as m, os\n"
            "names = ['weasyprint','pydyf','cffi','pycparser','tinycss2','tinyhtml5','cssselect2','pyphen',"
            "'fonttools','pillow','brotli','zopfli','webencodings']\n"
            "total = 0\n"
            "for n in names:\n"
            "    d = m.distribution(n)\n"
            "    paths = [d.locate_file(f) for f in d.files or []]\n"
            "    total += sum(os.path.getsize(p) for p in paths if os.path.exists(p))\n"
            "print(total)"
        )
        total = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
        out["weasyprint_python_mb"] = round(int(total) / 2**20, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--weasyprint-python", help="an interpreter with WeasyPrint installed")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    html = args.html.read_text(encoding="utf-8") if args.html else _sample_html()
    OUT.mkdir(parents=True, exist_ok=True)
    page = OUT / "report.html"
    page.write_text(html, encoding="utf-8")
    results: dict[str, dict[str, object]] = {}
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        pdf = html_to_pdf(html)
        times.append(time.perf_counter() - start)
    (OUT / "chromium.pdf").write_bytes(pdf)
    results["chromium"] = {"seconds": [round(t, 2) for t in times], "bytes": len(pdf)}
    if args.weasyprint_python:
        script = OUT / "weasy.py"
        script.write_text(_WEASY, encoding="utf-8")
        done = subprocess.run(
            [args.weasyprint_python, str(script), str(page), str(OUT / "weasyprint.pdf"), str(args.repeat)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = [round(float(t), 2) for t in done.stdout.split()]
        results["weasyprint"] = {"seconds": seconds, "bytes": (OUT / "weasyprint.pdf").stat().st_size}
    for name in results:
        results[name]["pages"] = _pages(OUT / f"{name}.pdf")
    if "weasyprint" in results:
        a, b = _page_one(OUT / "chromium.pdf"), _page_one(OUT / "weasyprint.pdf")
        h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
        diff = np.abs(a[:h, :w] - b[:h, :w]).max(axis=2)
        results["page1_difference"] = {
            "mean_abs": round(float(diff.mean()), 4),
            "share_over_0.1": round(float((diff > 0.1).mean()), 4),
        }
    results["install_weight"] = dict(_weight(args.weasyprint_python))
    text = json.dumps(results, indent=2)
    sys.stdout.write(text + "\n")
    (OUT / "results.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
