# Confluence: common tasks.  `make install` first; everything else uses .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every installable package: the shared library first, then the FLPE framework, then the rest.
PACKAGES := core $(wildcard modules/flpe/core) $(sort $(filter-out core/ modules/flpe/core/,\
	$(dir $(wildcard driver/pyproject.toml demo/pyproject.toml renew/pyproject.toml \
	modules/*/pyproject.toml modules/flpe/*/pyproject.toml images/test-image/pyproject.toml))))
PYTEST_ARGS ?=
# checkov (the CloudFormation template's security checks) pins boto3, networkx and packaging below ours:
# it gets its own virtual environment.
CHECKOV_VENV ?= build/checkov

.PHONY: install test test-fast lint build lock clean-images bench bench-accuracy demo clean help infra

help:
	@echo "make install         virtual environment $(VENV) with every package editable"
	@echo "make test            the whole test suite (docker tests run when an engine and the images exist)"
	@echo "make test-fast       the tests not marked slow or docker"
	@echo "make lint            ruff and mypy"
	@echo "make build           one image per module, FLPE algorithm and renew (works offline once its caches"
	@echo "                     are full; IMAGES=\"input renew\" some, ALL=1 with selftest, JOBS=2 at a time)"
	@echo "make lock            resolve images/lock/*.txt (hashed pins of every image's Python packages; uv)"
	@echo "make clean-images    remove the project's images (confluence/*) and build-stage leftovers"
	@echo "make bench           speed benchmarks;  make bench-accuracy: the Pepsi-1 accuracy benchmark"
	@echo "make infra           write infra/confluence.yaml (CloudFormation) from the workflow table and IAM table"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python $(CHECKOV_VENV)/bin/checkov
	$(BIN)/pip install --quiet $(addprefix -e ,$(PACKAGES)) -r requirements-dev.txt
	@echo "installed: $(PACKAGES)"

$(CHECKOV_VENV)/bin/checkov: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	@touch $@

infra:
	$(BIN)/python -m confluence_driver.aws.stack infra/confluence.yaml

test:
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-fast:
	$(BIN)/pytest -q -m "not slow and not docker" $(PYTEST_ARGS)

# Every package's source folder, for mypy (strict on core and driver: [tool.mypy] in pyproject.toml).
TYPED := $(filter-out %.egg-info,$(wildcard core/src/confluence_* driver/src/confluence_* demo/src/confluence_* \
	renew/src/confluence_* modules/*/src/confluence_* modules/flpe/*/src/confluence_* images/test-image/src/confluence_*))

lint:
	$(BIN)/ruff check .
	$(BIN)/mypy --cache-dir build/mypy-cache $(TYPED)

build:
	PATH="$(abspath $(BIN)):$$PATH" bash images/build.sh $(IMAGES)

# The locks need the package index (or uv's cache); `make build` only checks that they are current.
lock:
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet uv
	$(BIN)/python images/buildplan.py lock

# Every image of the project (confluence/*: modules, wheel builder, base) and the build stages left
# untagged; the base stays in its cache (~/.cache/confluence), so the next build loads it.
clean-images:
	@tags=$$(docker images --filter reference='confluence/*' --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>'); \
	  if [ -n "$$tags" ]; then docker rmi $$tags >/dev/null && echo "removed $$(echo $$tags | wc -w) tag(s) confluence/*"; \
	  else echo "no confluence/* image"; fi
	docker image prune -f --filter label=confluence.build-stage >/dev/null
	docker image prune -f --filter label=confluence.image >/dev/null

bench:
	PATH="$(abspath $(BIN)):$$PATH" bash bench/run.sh

bench-accuracy:
	$(BIN)/confluence bench-accuracy --every 10 --out build/bench-accuracy

demo:
	$(BIN)/confluence demo build/demo

clean:
	rm -rf build confluence-run .pytest_cache .ruff_cache
