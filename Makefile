# Heedless Backbones: every command a user or CI runs.
# First command on a fresh machine: `make up`. Every test: `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RAW ?= raw
RELEASES ?= releases
RELEASE ?= latest
VIEWER_PORT ?= 5000
DATASETTE_PORT ?= 8001
ARGS ?=

.PHONY: up setup browser check build release diff serve viewer datasette test test-hostile lint bench bench-pipeline bench-viewer bench-datasette reconcile clean vendor

up: setup build ## set up, build the release from raw/ and serve the viewer and Datasette
	$(PY) -m viewer.serve --releases $(RELEASES) --viewer-port $(VIEWER_PORT) --datasette-port $(DATASETTE_PORT)

setup: $(VENV)/.installed ## a virtual environment with the locked dependencies

$(VENV)/.installed: requirements.lock requirements-validate.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PYTHON) -m venv .venv-validate
	.venv-validate/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-validate.lock
	touch $@

browser: ## Debian's Chromium for the browser tests (needs root)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

check: setup ## validate raw/
	$(PY) -m pipeline check --raw $(RAW) $(ARGS)

build: setup ## build raw/ into build/release and compare it with the latest release
	$(PY) -m pipeline build --raw $(RAW) --releases $(RELEASES) --verify $(ARGS)

release: setup ## cut releases/vVERSION (make release VERSION=0.2.0)
	$(PY) -m pipeline release --raw $(RAW) --releases $(RELEASES) --version $(VERSION)

diff: setup ## what changed between two releases (make diff A=0.1.0 B=0.2.0)
	$(PY) -m pipeline diff --releases $(RELEASES) $(A) $(B)

serve viewer: setup ## the viewer alone (development server)
	$(PY) -m viewer.serve --releases $(RELEASES) --viewer-port $(VIEWER_PORT) --no-datasette

datasette: setup ## Datasette alone, read-only (make datasette RELEASE=v0.1.0)
	$(PY) -m viewer.serve --releases $(RELEASES) --release $(RELEASE) --datasette-port $(DATASETTE_PORT) --no-viewer

test: setup ## every test (browser tests skip with a reason when Chromium is missing, except in CI)
	$(PY) -m pytest $(ARGS)

test-hostile: setup ## 10,000 generated requests to the real viewer and Datasette (about 10 minutes)
	HEEDLESS_HOSTILE_EXAMPLES=5000 $(PY) -m pytest tests/test_hostile.py -k generated $(ARGS)

lint: setup
	$(VENV)/bin/ruff check pipeline viewer tests bench
	$(VENV)/bin/mypy

reconcile: setup ## cross-check raw/ against the reference data beside this repository
	$(PY) -m pipeline reconcile --raw $(RAW) --sources ../shared/sources

bench: bench-pipeline bench-viewer bench-datasette

bench-pipeline: setup ## build time and peak memory for 4k, 40k and 400k synthetic results
	$(PY) -m bench.pipeline $(ARGS)

bench-viewer: setup ## latency, requests/s, compressed size and time to a drawn plot, on the server `make up` runs
	$(PY) -m bench.viewer $(ARGS)

vendor: setup ## re-fetch the pinned browser packages (npm pack), check their integrity, copy them into viewer/static/vendor
	$(PY) -m viewer.vendor

bench-datasette: setup
	$(PY) -m bench.datasette $(ARGS)

clean:
	rm -rf build bench/out

lock: ## re-resolve the locked dependencies after editing pyproject.toml
	$(VENV)/bin/pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock
	$(VENV)/bin/uv pip compile requirements-validate.in --python-version 3.11 --generate-hashes -o requirements-validate.lock
