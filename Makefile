# Confluence: common tasks.  `make install` first; everything else uses .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every installable package: the shared library first, then the FLPE framework, then the rest.
PACKAGES := core $(wildcard modules/flpe/core) $(sort $(filter-out core/ modules/flpe/core/,\
	$(dir $(wildcard driver/pyproject.toml demo/pyproject.toml renew/pyproject.toml \
	modules/*/pyproject.toml modules/flpe/*/pyproject.toml docker/test-image/pyproject.toml))))
PYTEST_ARGS ?=

.PHONY: install test test-fast lint build bench bench-accuracy demo clean help

help:
	@echo "make install         virtual environment $(VENV) with every package editable"
	@echo "make test            the whole test suite (docker tests run when an engine and the images exist)"
	@echo "make test-fast       the tests not marked slow or docker"
	@echo "make lint            ruff and mypy"
	@echo "make build           one image per module, FLPE algorithm and renew (works offline)"
	@echo "make bench           speed benchmarks;  make bench-accuracy: the Pepsi-1 accuracy benchmark"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet $(addprefix -e ,$(PACKAGES)) -r requirements-dev.txt
	@echo "installed: $(PACKAGES)"

test:
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-fast:
	$(BIN)/pytest -q -m "not slow and not docker" $(PYTEST_ARGS)

# Every package's source folder, for mypy (strict on core and driver: [tool.mypy] in pyproject.toml).
TYPED := $(filter-out %.egg-info,$(wildcard core/src/confluence_* driver/src/confluence_* demo/src/confluence_* \
	renew/src/confluence_* modules/*/src/confluence_* modules/flpe/*/src/confluence_* docker/test-image/src/confluence_*))

lint:
	$(BIN)/ruff check .
	$(BIN)/mypy --cache-dir build/mypy-cache $(TYPED)

build:
	PATH="$(abspath $(BIN)):$$PATH" bash docker/build.sh $(IMAGES)

bench:
	PATH="$(abspath $(BIN)):$$PATH" bash bench/run.sh

bench-accuracy:
	$(BIN)/confluence bench-accuracy --every 10 --out build/bench-accuracy

demo:
	$(BIN)/confluence demo build/demo

clean:
	rm -rf build confluence-run .pytest_cache .ruff_cache
