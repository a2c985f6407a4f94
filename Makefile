# Liaison — the two commands that matter: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := .demo
# The test environment, pinned with hashes (`make lock` writes it from pyproject.toml's test extra).
LOCK := requirements-test.lock
UV_VERSION := 0.13.9

.PHONY: demo demo-reset test bench lint lock clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The test environment is exactly the lock (every hash checked), then Liaison itself with nothing resolved;
# `pip check` fails if pyproject.toml asks for something the lock does not hold (then run `make lock`).
$(VENV)/.installed-test: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check || { echo "error: $(LOCK) does not match pyproject.toml: run make lock" >&2; exit 1; }
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

## Open the demo store under .demo/ as you left it (built on first use; officer demo, passphrase demo).
demo: $(VENV)/.installed
	$(BIN)/liaison demo --keep --store $(DEMO_DIR)/pk-moi.db

## Rebuild the demo stores under .demo/ from scratch (what you did in them is lost) and open the app.
demo-reset: $(VENV)/.installed
	$(BIN)/liaison demo --store $(DEMO_DIR)/pk-moi.db

## Create/update .venv from the lock, run the gates (`make lint`), then every test in parallel
## (PYTEST_WORKERS=0 runs them in one process).
# Workers only here, not in pytest's addopts: a single module runs faster without them, and
# `pytest --snapshot-update` must see every snapshot test in one process.
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

## The static gates alone: formatting, lint, types (strict), layers.
# Every gate runs even after one fails, so one run shows everything to fix; the exit status is 1 if any failed.
# Fix formatting and the auto-fixable findings with: .venv/bin/ruff format . && .venv/bin/ruff check --fix .
GATES := "$(BIN)/ruff format --check ." "$(BIN)/ruff check ." "$(BIN)/mypy" "$(BIN)/lint-imports"
lint: $(VENV)/.installed-test
	@failed=""; for gate in $(GATES); do echo "+ $$gate"; $$gate || failed="$$failed\n  $$gate"; done; \
	if [ -n "$$failed" ]; then printf "error: gates failed:$$failed\n" >&2; exit 1; fi

## Re-pin the test environment after a dependency change in pyproject.toml (needs PyPI).
lock: | $(BIN)/python
	test -x .venv-lock/bin/uv || { $(PYTHON) -m venv .venv-lock && .venv-lock/bin/python -m pip install --quiet uv==$(UV_VERSION); }
	.venv-lock/bin/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 --universal \
		--custom-compile-command "make lock" --quiet -o $(LOCK)

## The benchmark suite (not part of `make test`): make bench RECORDS=100000
RECORDS ?= 100000
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench --records $(RECORDS)

clean:
	rm -rf $(VENV) .venv-lock $(DEMO_DIR) .pytest_cache .hypothesis
