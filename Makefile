# caldav-bridge: everything a new machine needs goes through these targets.
#   make demo   installs into .venv, prepares the demo practice and serves it on :8080
#   make test   installs into .venv (with the test tools) and runs lint, types and all tests

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config/practice.toml
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: demo test lint typecheck pytest bench bench-caldav conformance screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.app
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.app
	$(BIN)/caldav-bridge --config $(CONFIG) init --demo
	$(BIN)/caldav-bridge --config $(CONFIG) serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test
	$(BIN)/mypy

# Browser tests drive Debian's chromium (Playwright cannot download browsers here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	  echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	fi

pytest: $(VENV)/.test $(CHROMIUM)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(VENV)/.test
	$(BIN)/python bench/bench_slots.py
	$(BIN)/python bench/bench_booking.py
	$(BIN)/python bench/bench_notify.py

bench-caldav: $(VENV)/.test
	$(BIN)/python bench/bench_caldav.py

# caldav-server-tester against stock Radicale 3.9 and ours (SQLite and PostgreSQL).
conformance: $(VENV)/.test
	$(BIN)/python bench/conformance.py --postgres

screenshots: $(VENV)/.test $(CHROMIUM)
	CALDAV_BRIDGE_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/browser/test_pages.py \
	  tests/browser/test_panel_pages.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
