# Quick start: `make run` (the plait backend on SQLite with a local Dask cluster,
# and JupyterLab on notebooks/) and
# `make test` (the whole suite). Both create and fill the virtual environment
# themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= server,notebook,dataframe,dev
PYTEST_ARGS ?=

.PHONY: install run test lint typecheck bench clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

run: install
	VENV=$(VENV) scripts/run.sh

# The backend tests run against a real PostgreSQL: install it first if missing.
test: install
	sh scripts/ensure-postgres.sh
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check kernel backend workspaces tests benchmarks

bench: install
	$(PY) benchmarks/run.py
	$(PY) benchmarks/notebook.py
	$(PY) benchmarks/backend.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

typecheck: install
	$(VENV)/bin/mypy
