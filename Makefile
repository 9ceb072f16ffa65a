# MovR: `make demo` to try it, `make test` to check it. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo global test lint format lock clean screenshots

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv with the locked dependencies and MovR itself

demo: install  ## embedded database + migrations + demo data + server on $PORT (default 8000)
	$(BIN)/movr demo

global: install  ## MovR in three regions on this machine: databases, latency proxies, apps, HAProxy (base port $PORT)
	$(BIN)/movr global

test: install lint  ## the whole suite: lint, types, and every test against a real PostgreSQL
	$(BIN)/python -m pytest

screenshots: install  ## refresh docs/screenshots from a real browser
	MOVR_SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser/test_screenshots.py -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:  ## re-resolve requirements.lock from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements-runtime.lock

clean:
	rm -rf $(VENV) .movr .pytest_cache .mypy_cache .ruff_cache
