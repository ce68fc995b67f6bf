# execflow: the two commands of the README quick start are `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp

.PHONY: demo test setup lint typecheck imports unit bench clean core-install grpc coverage screenshots docs \
	compile test-compiled

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# the demo needs the core package and the settlement calendars, nothing of the dev tools
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[settlement]"
	touch $(DEMO_STAMP)

setup: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/execflow demo

lint: $(STAMP)
	$(BIN)/ruff check --no-cache src tests
	$(BIN)/ruff format --no-cache --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	bash scripts/run-tests.sh

test: $(STAMP)
	bash scripts/install-system-deps.sh
	bash scripts/ensure-services.sh
	$(MAKE) --no-print-directory lint typecheck imports
	bash scripts/check-core-install.sh
	# the whole fast suite once, under the coverage gate (COV below); the slow-consumer stream
	# test (it trades at full speed until the feed drops a client that stopped reading) runs in
	# a process of its own, away from the coverage tracer. Its failures so far were the default
	# order-rate limit refusing its orders on a loaded machine (fixed: its own risk config);
	# with that fix the whole API suite passed in one process (241 passed)
	bash scripts/run-tests.sh $(COV) $(PARALLEL) --deselect $(SLOW_CONSUMER)
	bash scripts/run-tests.sh -q -p no:randomly $(SLOW_CONSUMER)
	# the FIX sessions run on uvloop when installed: the conformance suite on asyncio's loop too
	EXECFLOW_UVLOOP=0 bash scripts/run-tests.sh -q -p no:randomly tests/fix_conformance

# refresh docs/img/ui-*.png (the dashboard's pictures in docs/dashboard.md) from the browser tests
screenshots: $(STAMP)
	EXECFLOW_UI_SCREENSHOTS=$(CURDIR)/docs/img bash scripts/run-tests.sh -q -p no:randomly tests/api/test_dashboard_browser.py

# regenerate the committed gRPC modules after changing execflow.proto (a test checks them)
grpc: $(STAMP)
	$(BIN)/python -m execflow.api.grpc.codegen

# The backlog's quality gate: line and branch coverage of the execution logic over the whole
# suite, failing below COV_MIN (README "Tests"); `test` runs the suite under it.
COV_MIN ?= 90
# The suite runs in TEST_WORKERS processes (pytest-xdist), a test file per worker at a time
# (module fixtures such as a test server stay in one process): most tests wait on servers,
# subprocesses and sockets, so two workers on two cores took 14.5 min where one took 18.7
# (under coverage, load 5-10, 2026-12-05). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile
SLOW_CONSUMER := tests/api/test_stream.py::test_slow_consumer_is_dropped_with_reason_and_others_are_not_stalled
COV := --cov=execflow.domain --cov=execflow.application --cov=execflow.adapters.venues \
	--cov=execflow.fix --cov-branch --cov-report=term:skip-covered --cov-fail-under=$(COV_MIN)

coverage: $(STAMP)
	bash scripts/ensure-services.sh
	bash scripts/run-tests.sh $(COV) $(PARALLEL)

core-install:
	bash scripts/check-core-install.sh

# the documentation site (mkdocs, material theme) into site/, offline; the REST and gRPC
# reference pages are generated from the code at build time (tools/mkdocs_hooks.py); the
# build is also a test (tests/docs/test_site.py), so `make test` builds it too
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Opt-in compiled hot path (docs/performance.md, "mypyc"): never built by setup, demo or test.
# `make compile` builds the modules of execflow/_compiled.py with mypyc into $(COMPILED_DIR)
# (outside src/, with the SHA-256 of each .py) when the build is missing or stale; a process
# uses it only with EXECFLOW_COMPILED=1 and only while every compiled .py is unchanged.
# `make test-compiled` runs the tests of the compiled modules against the compiled build; the
# same tests run pure Python in `make test`.
COMPILED_DIR := $(VENV)/execflow-mypyc
COMPILED_TESTS := tests/unit/test_compiled.py tests/unit/test_book.py \
	tests/unit/test_quote_driven_market.py tests/unit/test_paper_venue.py \
	tests/unit/test_venue_institutional.py tests/unit/test_venue_snapshot.py tests/unit/routing \
	tests/unit/orders tests/unit/test_execution_projection.py tests/unit/test_synthetic.py \
	tests/unit/algos/test_market_impact.py tests/unit/risk tests/unit/test_engine.py \
	tests/unit/test_engine_snapshot_lazy.py tests/unit/test_order_recovery.py \
	tests/unit/test_recovery.py tests/unit/test_order_entry.py tests/unit/test_runner.py \
	tests/unit/test_bounded_waits.py

compile: $(STAMP)
	nice $(BIN)/python tools/build_compiled.py --if-stale --out $(COMPILED_DIR)

test-compiled: compile
	EXECFLOW_COMPILED=1 EXECFLOW_COMPILED_DIR=$(CURDIR)/$(COMPILED_DIR) \
		bash scripts/run-tests.sh -q -p no:randomly $(COMPILED_TESTS)

bench: $(STAMP)
	$(BIN)/execflow bench orders --json bench-results/orders.json

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
