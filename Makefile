# The two commands the README gives:
#   make demo   set up, then run the main job on the bundled example
#   make test   set up (with test extras), lint, then run every test (what CI runs)
# and for everyday work:
#   make lint        ruff (lint + format check) and mypy
#   make test-quick  every test not marked slow (under two minutes)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: demo test test-quick lint format setup setup-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints/embed.txt -e '.[test,embed]'
	touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test
	@# headless Chromium for the browser test (tests/reports/test_browser.py); the test
	@# skips with a reason when it is missing, so a machine without apt still runs the rest
	@if [ ! -x /usr/bin/chromium ]; then \
		(apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
			|| echo "setup-test: could not install chromium with apt; the browser test will be skipped"; \
	fi

demo: setup
	$(BIN)/wergap demo -o $(OUT)/report.html --outdir $(OUT)

lint: setup-test
	$(BIN)/ruff check wergap tests benchmarks
	$(BIN)/ruff format --check wergap tests benchmarks
	$(BIN)/mypy

format: setup-test
	$(BIN)/ruff check --fix wergap tests benchmarks
	$(BIN)/ruff format wergap tests benchmarks

test: setup-test lint
	$(BIN)/python -m pytest

test-quick: setup-test
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python benchmarks/bench_scoring.py

clean:
	rm -rf $(VENV) $(OUT)
