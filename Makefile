# aioa_analysis — run `make help` for the targets.
# Two commands on a fresh machine (Python 3.11+ and make): `make report`, then `make test`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
SEED ?= 41
SAMPLE_DIR := data/raw/sample
PROCESSED_DIR := data/processed
REPORTS_DIR := reports
AS_OF ?=
REPORT_ARGS ?= --per-cfa

.PHONY: help venv install sample clean-data report test test-fast lint typecheck lab bench bench-full browser clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %d.%d)" % sys.version_info[:2])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (aioa)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install the package with its test tools (idempotent)

install: venv ## alias of venv

sample: venv ## regenerate the committed synthetic sample in data/raw/sample/ (deterministic)
	$(BIN)/aioa sample --out $(SAMPLE_DIR) --seed $(SEED)

clean-data: venv ## clean the raw data (real files in data/raw/, else the sample) into data/processed/
	$(BIN)/aioa clean --out $(PROCESSED_DIR) $(if $(AS_OF),--as-of $(AS_OF))
	@# on the sample only: read back the advisers' workbooks the sample ships (the follow-up loop)
	@if grep -q '"sample_used": true' $(PROCESSED_DIR)/quality.json; then \
	  $(BIN)/aioa -q followup --import $(SAMPLE_DIR)/retours/*.xlsx; fi

report: clean-data ## main job: install, clean, then render the HTML reports (and the employer leaflets) into reports/
	$(BIN)/aioa report --data $(PROCESSED_DIR)/contracts.parquet --out $(REPORTS_DIR) $(REPORT_ARGS) $(if $(AS_OF),--as-of $(AS_OF))
	$(BIN)/aioa plaquette --data $(PROCESSED_DIR)/contracts.parquet --out $(REPORTS_DIR)/plaquettes $(if $(AS_OF),--as-of $(AS_OF)) $(if $(shell command -v chromium 2>/dev/null),--pdf)
	@echo "Rapports : $(REPORTS_DIR)/index.html ; plaquettes employeurs : $(REPORTS_DIR)/plaquettes/"

test: lint typecheck ## run the whole test suite, lint and type checks included
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: lint typecheck ## the same without the slow tests (end-to-end runs): pytest -m "not slow"
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow"

lint: venv ## ruff lint and format check only
	$(BIN)/ruff check aioa_analysis tests benchmarks
	$(BIN)/ruff format --check aioa_analysis tests benchmarks

typecheck: venv ## mypy on the package
	$(BIN)/mypy aioa_analysis

browser: ## install Debian's Chromium for the browser tests (root; never a tool's own download)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

lab: venv ## open JupyterLab on the venv (notebooks/)
	$(BIN)/jupyter lab notebooks/

bench: venv ## benchmarks at 10 k and 100 k contracts (results in docs/benchmarks.md)
	$(PY) -m benchmarks.run --sizes 10000,100000

bench-full: venv ## benchmarks up to 5 M contracts (floor/clean pairs repeated 5 times up to 1 M)
	$(PY) -m benchmarks.run --sizes 10000,100000,1000000,5000000 --repeat 5

clean: ## remove processed data, reports and caches (keeps the venv and data/raw)
	rm -rf $(PROCESSED_DIR)/*.parquet $(PROCESSED_DIR)/*.csv $(PROCESSED_DIR)/*.json $(PROCESSED_DIR)/.aioa $(REPORTS_DIR)/*.html $(REPORTS_DIR)/notebooks $(REPORTS_DIR)/plaquettes $(REPORTS_DIR)/.aioa
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## also remove the venv
	rm -rf $(VENV)
