# tradecast — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run serve test test-all lint typecheck check cov bench bench-api bench-store bench-report bench-domain load-samples clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Install, load the bundled samples into the embedded store (first start only), serve.
run: install
	$(VENV)/bin/tradecast load-samples --if-empty
	$(VENV)/bin/tradecast serve

serve: run

load-samples: install
	$(VENV)/bin/tradecast load-samples

## Tests (fast suite; slow tests excluded).
test: install
	$(PY) -m pytest -m "not slow" -q

test-all: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

check: lint typecheck test

cov: install
	$(PY) -m pytest -m "not slow" -q --cov=forecasting --cov=data --cov=api --cov=reports --cov-fail-under=80

## Benchmarks (figures go to stdout and var/bench/).
bench: install
	$(VENV)/bin/tradecast bench m3

bench-api: install
	$(PY) bench/api_load.py

bench-store: install
	$(PY) bench/store_ingest.py

bench-report: install
	$(PY) bench/report_render.py

bench-domain: install
	$(PY) bench/domain_coverage.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
