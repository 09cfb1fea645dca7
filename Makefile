# chunkr-web. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies

# The TypeScript SDK the tests drive (tests/sdk/test_ts_sdk.py), pinned by its package-lock.json. Without npm the
# step is skipped and those tests skip with a reason.
JS_STAMP := tests/sdk/js/node_modules/.installed-stamp
$(JS_STAMP): tests/sdk/js/package.json tests/sdk/js/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/sdk/js --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: skipping the TypeScript SDK install (its tests will skip)"; fi

run: export CHUNKR_LOCAL_RUN = 1
run: $(STAMP) ## Migrate, create the demo workspace/user/key, start web + worker + beat (+ embedded Redis)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py bootstrap_demo
	exec $(PY) -m chunkr_web.supervisor

test: $(STAMP) $(JS_STAMP) lint ## Run the whole test suite (lint first)
	$(PY) -m pytest $(PYTEST_ARGS)

# Where no Tesseract loads (the tesserocr wheel has no macOS build), the engine reads with RapidOCR alone. The engine
# tests run once more that way (the corpus check aside: it asserts a result or a clean error, whichever engine reads).
test-without-tesseract: $(STAMP) ## The engine tests with RapidOCR alone, as where no Tesseract loads; .ci/run runs it
	CHUNKR_OCR_ENGINE=rapidocr $(PY) -m pytest tests/engine --ignore=tests/engine/test_corpus.py $(PYTEST_ARGS)

bench: $(STAMP) ## Engine speed/memory benchmarks (figures in docs/BENCHMARKS.md; `make bench-api` for the REST API)
	$(PY) bench/engine_bench.py $(BENCH_ARGS)

# PostgreSQL when DATABASE_URL names a server (a scratch database is created there and dropped), else SQLite.
bench-api: $(STAMP) ## REST API under load from a separate process: GET/list/upload latency and throughput
	$(PY) bench/api_bench.py $(BENCH_ARGS)

bench-scale: $(STAMP) ## One long document on 1 vs 2 workers, fairness between workspaces, page-range overhead
	$(PY) bench/scale_bench.py $(BENCH_ARGS)

bench-soak: $(STAMP) ## make run's stack: 20 clients for 10 min (lost/stuck/5xx/RSS), then a 50-client async:false flood vs /health
	$(PY) bench/soak.py $(BENCH_ARGS)

bench-review: $(STAMP) ## Extraction review: the view (50 pages, 100 fields, 400 citations), a decision, quality over 10k reviews
	$(PY) bench/review_bench.py $(BENCH_ARGS)

bench-teds: $(STAMP) ## Table quality: TEDS on PubTabNet's example images (BENCH_ARGS="--ocr tesseract,rapidocr")
	$(PY) bench/teds_bench.py $(BENCH_ARGS)

# Parse outputs are cached under var/bench-extract/ (the receipts' OCR takes ~10 min on 2 cores the first time).
bench-extract: $(STAMP) ## Extraction on real receipts, NDAs, invoices vs a regex baseline (BENCH_ARGS="--limit 20 -v")
	$(PY) bench/extract_real.py $(BENCH_ARGS)

bench-quality: $(STAMP) ## Table cells beside PyMuPDF's own finder and pymupdf4llm, same run (BENCH_ARGS="--per-table")
	$(PY) bench/quality_bench.py $(BENCH_ARGS)

fuzz-api: $(STAMP) ## schemathesis against /api/v1/openapi.json on a scratch DB (fails on 5xx / schema violations)
	scripts/fuzz_api.sh $(FUZZ_ARGS)

screenshots: $(STAMP) ## Refresh docs/screenshots/ (upload, list, viewer, schema editor, extraction view, review queue, settings) with chromium
	CHUNKR_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/browser/test_screenshots.py -p no:randomly -q

lint: $(STAMP) ## ruff check + ruff format --check + the import contracts (docs/ARCHITECTURE.md)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: ## Re-pin constraints.txt from the current .venv
	$(PY) -m pip freeze --exclude-editable | grep -v '^chunkr-web' > constraints.txt

clean: ## Remove the venv and caches (keeps var/)
	rm -rf $(VENV) .pytest_cache .ruff_cache

.PHONY: help install run test test-without-tesseract bench bench-api bench-scale bench-soak bench-review bench-teds bench-extract bench-quality fuzz-api screenshots lint format lock clean
