# Liaison — the two commands that matter: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := .demo

.PHONY: demo test bench lint clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

## Build a fresh demo store under .demo/ and open the app on it (officer demo, passphrase demo).
demo: $(VENV)/.installed
	$(BIN)/liaison demo --store $(DEMO_DIR)/pk-moi.db

## Create/update .venv with the test extra and run every test.
test: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

## The benchmark suite (not part of `make test`): make bench RECORDS=100000
RECORDS ?= 100000
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench --records $(RECORDS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .hypothesis
