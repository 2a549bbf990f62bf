# The two commands a newcomer needs: `make demo` and `make test`. Everything runs from .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
# .python-version pins 3.12; pyenv's shim (or a system python3.12) provides it.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: help install demo test lint fmt ci clean

help:
	@echo "make demo     install if needed, then run the portal with sandbox peers on http://127.0.0.1:$(PORT)/"
	@echo "make test     the whole test suite (SQLite; PostgreSQL when DATABASE_URL is set)"
	@echo "make lint     ruff check, ruff format --check, makemigrations --check, lint-imports, mypy"
	@echo "make install  create .venv and install the pinned dependencies (idempotent)"
	@echo "make ci       what CI runs: .ci/run (PostgreSQL, tests, lint, demo smoke test)"

# The stamp is rebuilt only when pyproject.toml changes (or the venv is missing).
$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  echo "Creating $(VENV) with $(PYTHON)"; \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	    || { echo "Python 3.12+ is required (found $$($(PYTHON) --version))"; exit 1; }; \
	  $(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(STAMP)

demo: install
	PORT=$(PORT) $(PY) manage.py demo

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

ci:
	.ci/run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache staticfiles demo.sqlite3 demo.sqlite3-*
