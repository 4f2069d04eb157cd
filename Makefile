# tradecast — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Benchmark data, read where it lies (never copied into the repository); override on the
# command line, e.g. `make bench M3_DIR=/data/m3`.
M3_DIR ?= ../shared/data/m3
DOMAIN_DIR ?= ../shared/data/domain
TOURISM_DIR ?= ../shared/data/tourism

.PHONY: install browser run serve test test-all lint typecheck check cov bench bench-api bench-load bench-store bench-report bench-pdf bench-domain bench-realtime bench-trade bench-intervals bench-scale calibrate load-samples clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) browser

## Headless Chromium (PDF reports, browser tests) and poppler-utils (pdftoppm), from Debian's
## packages; skipped when both are present. Optional: when they cannot be installed (not root, no
## apt-get, the package lock held by another install), this says what is disabled and how to
## enable it, and `make run` / `make test` go on without them.
BROWSER_OFF := PDF reports are disabled (HTML and XLSX work) and the tests that need a browser are skipped
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; then :; \
	  else echo "browser: apt-get could not install chromium and poppler-utils (see above); $(BROWSER_OFF). To enable them: make browser (or apt-get install chromium poppler-utils) once apt-get is free."; fi; \
	else echo "browser: chromium and poppler-utils are not installed; $(BROWSER_OFF). To enable them: apt-get install chromium poppler-utils (as root), or put a chromium binary on PATH."; fi

## Install, load the bundled samples into the embedded store (first start only), serve.
run: install
	$(VENV)/bin/tradecast load-samples --if-empty
	$(VENV)/bin/tradecast serve

serve: run

load-samples: install
	$(VENV)/bin/tradecast load-samples

## Tests (fast suite; slow tests excluded).
test: install
	$(PY) -m pytest -m "not slow" -q -n auto

test-all: install
	$(PY) -m pytest -q -n auto

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

check: lint typecheck test

cov: install
	$(PY) -m pytest -m "not slow" -q --cov=forecasting --cov=data --cov=api --cov=reports --cov-fail-under=80

## Benchmarks: the lab in bench/ (never packaged; figures go to stdout and var/bench/; see docs/benchmarks.md).
bench: install
	$(PY) -m bench.cli m3 --data $(M3_DIR)/m3.csv.gz

bench-api: install
	$(PY) -m bench.api_load

## Bounded loopback load with saturation (cached stored/inline, uncached, 503 + Retry-After, /v1/series p99).
bench-load: install
	$(PY) -m bench.load

bench-store: install
	$(PY) -m bench.store_ingest

bench-report: install
	$(PY) -m bench.report_render --domain $(DOMAIN_DIR)

bench-realtime: install
	$(PY) -m bench.realtime_backtest --domain $(DOMAIN_DIR)

## PDF engines on the sample report: Chromium (used) and, with WEASYPRINT_PYTHON=<python with weasyprint>, WeasyPrint.
bench-pdf: install
	$(PY) -m bench.pdf_engines $(if $(WEASYPRINT_PYTHON),--weasyprint-python $(WEASYPRINT_PYTHON),)

bench-domain: install
	$(PY) -m bench.domain_coverage --domain $(DOMAIN_DIR)
	$(PY) -m bench.full_year_backtest --domain $(DOMAIN_DIR) --years 2016 2021
	$(PY) -m bench.structure_bench --domain $(DOMAIN_DIR) --models auto auto_plain ets ets_untested
	$(PY) -m bench.structure_bilateral --domain $(DOMAIN_DIR) --models auto auto_plain ets ets_untested
	$(PY) -m bench.drivers_bench simulated --series 40 --model structural
	$(PY) -m bench.drivers_bench gaps --data $(M3_DIR)/m3.csv.gz --sample 200 --model auto
	$(PY) -m bench.gaps_impute --data $(M3_DIR)/m3.csv.gz --origin report --sample 300 --arms complete imputed_mi
	$(PY) -m bench.structure_short --structures 150
	$(PY) -m bench.shares_bench --domain $(DOMAIN_DIR)
	$(PY) -m bench.shares_rules --domain $(DOMAIN_DIR) --redraw
	$(PY) -m bench.drivers_bench simulated --series 20 --model auto
	$(PY) -m bench.drivers_bench scenarios --series 20 --model structural
	$(PY) -m bench.mixed_bench simulated --series 100
	$(PY) -m bench.mixed_bench gacc --data $(DOMAIN_DIR)/china_russia_monthly_and_ytd_press_gacc.csv
	$(PY) -m bench.mixed_bench var --data $(DOMAIN_DIR)/russia_fcs_trade_by_partner_monthly_2006_2021.csv

## Accuracy on trade series (issue 25): auto against statsforecast AutoETS/AutoARIMA/AutoTheta and, when Rscript
## is installed, R's forecast package (ets, auto.arima, thetaf); forecasts cached in var/bench/trade_cache.
## R is not installed by `make install`; on Debian/Ubuntu: apt-get install r-base-core r-cran-forecast.
bench-trade: install
	@command -v Rscript >/dev/null || echo "bench-trade: Rscript not found, R's references are skipped (Debian/Ubuntu: apt-get install r-base-core r-cran-forecast)"
	$(PY) -m bench.trade --domain $(DOMAIN_DIR) --extra
	$(PY) -m bench.trade_choose --domain $(DOMAIN_DIR)
	$(PY) -m bench.trade_meta --domain $(DOMAIN_DIR)

## Does auto's interval calibration transfer (issue 31)? Coverage and MSIS per set on tourism, an M3 sample,
## the trade panels and short simulated series, for the shipped table and tables learned on broader bases;
## fits cached in var/bench/transfer_cache (docs/intervals.md, "Transfer").
bench-intervals: install
	$(PY) -m bench.transfer --m3 $(M3_DIR)/m3.csv.gz --tourism $(TOURISM_DIR)/tourism.csv.gz \
	  --domain $(DOMAIN_DIR) --sim 150 --holdouts

## Scale-out: one process vs process pool vs Dask LocalCluster vs statsforecast on Dask (docs/scale.md).
## N is a list, e.g. `make bench-scale SCALE_N="1000 10000"`; needs the bench extra (fugue[dask]).
SCALE_N ?= 1000
bench-scale: install
	$(VENV)/bin/python -m pip install --quiet -e '.[bench]'
	$(PY) -m bench.scale --data $(M3_DIR)/m3.csv.gz --n $(SCALE_N) --models ets theta auto

## Re-learn auto's interval calibration (writes forecasting/calibration/auto.json; 10-30 minutes).
calibrate: install
	$(PY) -m bench.calibrate_intervals --data $(M3_DIR)/m3.csv.gz

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
