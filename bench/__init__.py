"""The benchmark and calibration lab: never packaged, never imported by the product.

Run its commands from the repository root as modules, for example
``python -m bench.cli m3 --data <m3 folder>/m3.csv.gz`` or ``make bench``; see
``docs/benchmarks.md``. Everything here may import the product packages; nothing in
``forecasting``, ``data``, ``reports`` or ``api`` imports from here.
"""
