# Heedless Backbones: every command a user or CI runs.
# First command on a fresh machine: `make up`. Every test: `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
VALIDATE := .venv-validate
RAW ?= raw
RELEASES ?= releases
RELEASE ?= latest
VIEWER_PORT ?= 5000
DATASETTE_PORT ?= 8001
ARGS ?=

VERSION ?= latest

.PHONY: up setup runtime browser check build release diff verify dist preview serve viewer datasette test test-hostile lint bench bench-pipeline bench-viewer bench-datasette reconcile clean lock vendor

up: setup build ## set up, build the release from raw/ and serve the viewer and Datasette
	$(PY) -m viewer.serve --releases $(RELEASES) --viewer-port $(VIEWER_PORT) --datasette-port $(DATASETTE_PORT)

setup: $(VENV)/.installed ## .venv (runtime + dev tools) and .venv-validate (validators the tests use), from the lockfiles

# One tool installs what one tool locked: uv (itself installed hash-checked by pip) syncs each environment to its
# lockfile exactly, hashes required; the project goes into .venv editable, so `heedless` and the Datasette
# plugin's entry point exist.
$(VENV)/.installed: requirements-uv.lock requirements-dev.lock requirements-validate.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-uv.lock
	$(UV) pip sync --quiet --python $(PY) --require-hashes requirements-dev.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VALIDATE)
	$(UV) pip sync --quiet --python $(VALIDATE)/bin/python --require-hashes requirements-validate.lock
	touch $@

browser: ## Debian's Chromium for the browser tests and sqlite3 for the README example (needs root)
	@command -v chromium >/dev/null && command -v sqlite3 >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium sqlite3 >/dev/null)

check: setup ## validate raw/
	$(PY) -m pipeline check --raw $(RAW) $(ARGS)

build: setup ## build raw/ into build/release and compare it with the latest release
	$(PY) -m pipeline build --raw $(RAW) --releases $(RELEASES) --verify $(ARGS)

release: setup ## cut releases/vVERSION, dated today (make release VERSION=0.2.0 [DATE=2026-12-03])
	$(PY) -m pipeline release --raw $(RAW) --releases $(RELEASES) --version $(VERSION) $(if $(DATE),--date $(DATE))

verify: setup ## check a release's files against its SHA256SUMS (make verify [VERSION=0.4.0])
	$(PY) -m pipeline verify --releases $(RELEASES) $(VERSION)

dist: setup ## dist/heedless-backbones-vVERSION.tar.gz and its .sha256 (make dist VERSION=0.4.0; default latest)
	$(PY) -m pipeline dist --releases $(RELEASES) --version $(VERSION)

preview: setup ## build raw/ as it is now into build/preview and serve it in the viewer and Datasette (no release)
	$(PY) -m heedless preview --raw $(RAW) --releases $(RELEASES) --viewer-port $(VIEWER_PORT) --datasette-port $(DATASETTE_PORT)

diff: setup ## what changed between two releases (make diff A=0.1.0 B=0.2.0)
	$(PY) -m pipeline diff --releases $(RELEASES) $(A) $(B)

serve viewer: setup ## the viewer alone (development server)
	$(PY) -m viewer.serve --releases $(RELEASES) --viewer-port $(VIEWER_PORT) --no-datasette

datasette: setup ## Datasette alone, read-only (make datasette RELEASE=v0.1.0)
	$(PY) -m viewer.serve --releases $(RELEASES) --release $(RELEASE) --datasette-port $(DATASETTE_PORT) --no-viewer

test: setup ## every test (browser tests skip with a reason when Chromium is missing, except in CI)
	$(PY) -m pytest $(ARGS)

test-hostile: setup ## 10,000 generated requests to the real viewer and Datasette (about 10 minutes)
	rm -f build/hostile-statuses.json
	HEEDLESS_HOSTILE_EXAMPLES=5000 $(PY) -m pytest tests/test_hostile.py -k generated $(ARGS)
	@echo "requests by status class: $$(cat build/hostile-statuses.json)"

lint: setup ## ruff and mypy (also run by `make test`)
	$(VENV)/bin/ruff check heedless pipeline viewer tests bench
	$(VENV)/bin/mypy

RUNTIME ?= build/runtime
runtime: setup ## the runtime alone at RUNTIME, as deploy/Containerfile installs it (make runtime RUNTIME=/opt/heedless)
	rm -rf build/lib build/bdist.*
	$(UV) venv --python python3 $(RUNTIME)
	$(UV) pip sync --python $(RUNTIME)/bin/python --require-hashes requirements.lock
	$(UV) pip install --python $(RUNTIME)/bin/python --no-deps .

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
	rm -rf build bench/out dist

# Re-resolve after editing pyproject.toml or requirements-*.in, then `make setup` installs the result. uv keeps
# every pin it can (it reads the old lockfile); the runtime lock is constrained to the dev lock's versions, so the
# runtime (`pip install .`, the container) and the tests run the same versions.
lock: ## re-resolve every lockfile with uv (runtime, dev, validation, uv itself)
	$(UV) pip compile requirements-uv.in --python-version 3.11 --generate-hashes -o requirements-uv.lock
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock
	$(UV) pip compile pyproject.toml -c requirements-dev.lock --python-version 3.11 --generate-hashes -o requirements.lock
	$(UV) pip compile requirements-validate.in --override requirements-validate.overrides --python-version 3.11 --generate-hashes -o requirements-validate.lock
