# MovR: `make demo` to try it, `make test` to check it. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

HOST ?= 127.0.0.1
# System packages (Debian/Ubuntu names) that some targets need; overridable for other systems.
CHROMIUM ?= /usr/bin/chromium
HAPROXY ?= $(firstword $(shell command -v haproxy) /usr/sbin/haproxy)

.PHONY: help install demo global test lint format lock clean screenshots check-system check-test check-global

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# $(call require,PACKAGES): fail with the one command that installs every missing package.
require = missing=""; \
	for need in $(1); do case $$need in \
		python3-venv) $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing $$need";; \
		chromium) test -x "$(CHROMIUM)" || missing="$$missing $$need";; \
		haproxy) test -x "$(HAPROXY)" || missing="$$missing $$need";; \
	esac; done; \
	if [ -n "$$missing" ]; then \
		echo "Missing system packages:$$missing. Install them with:" >&2; \
		echo "  sudo apt-get install$$missing" >&2; exit 1; fi

check-system:  ## Python >= 3.11 and its venv module (Debian/Ubuntu: python3-venv)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
		|| { echo "MovR needs Python >= 3.11 as $(PYTHON) (set PYTHON=python3.11 or newer)" >&2; exit 1; }
	@$(call require,python3-venv)

check-test:  ## also Chromium (browser tests) and HAProxy (`movr global` and its tests)
	@$(call require,python3-venv chromium haproxy)

check-global:
	@$(call require,python3-venv haproxy)

$(STAMP): pyproject.toml requirements.lock | check-system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv with the locked dependencies and MovR itself

demo: install  ## embedded database + migrations + demo data + server on $HOST:$PORT (127.0.0.1:8000; HOST=0.0.0.0 for a VM or container)
	$(BIN)/movr demo --host $(HOST)

global: check-global install  ## MovR in three regions on this machine: databases, latency proxies, apps, HAProxy (base port $PORT)
	$(BIN)/movr global

test: check-test install lint  ## the whole suite: lint, types, and every test against a real PostgreSQL
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

clean:  ## delete .venv, caches AND .movr: the demo database and its secret key (sessions end)
	rm -rf $(VENV) .movr .pytest_cache .mypy_cache .ruff_cache
