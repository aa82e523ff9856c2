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
SCREENSHOTS := test-artifacts/screenshots

# The JupyterLab extension (TypeScript) is built with npm into
# jupyter_ext/labextension/, which the venv's JupyterLab loads through a link.
EXT := jupyter_ext
LABEXT := $(EXT)/labextension/package.json
NODE_DEPS := $(EXT)/node_modules/.package-lock.json
EXT_SOURCES := $(shell find $(EXT)/src $(EXT)/style -type f) $(EXT)/package.json $(EXT)/tsconfig.json
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/plait-jupyterlab
SERVEREXT_CONFIG := $(VENV)/etc/jupyter/jupyter_server_config.d/plait.json

.PHONY: install run test lint typecheck bench clean types

$(NODE_DEPS): $(EXT)/package.json $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund
	touch $(NODE_DEPS)

$(LABEXT): $(NODE_DEPS) $(EXT_SOURCES)
	cd $(EXT) && npm run --silent build
	touch $(LABEXT)

$(STAMP): pyproject.toml setup.py | $(LABEXT)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	# An editable install ships no data files: link the built extension and
	# the server extension's config into the venv (a wheel install copies them).
	mkdir -p $(dir $(LABEXT_LINK)) $(dir $(SERVEREXT_CONFIG))
	rm -rf $(LABEXT_LINK) && ln -s $(CURDIR)/$(EXT)/labextension $(LABEXT_LINK)
	cp $(EXT)/plait.json $(SERVEREXT_CONFIG)
	touch $(STAMP)

# code-server (browser VS Code) for workspaces, in the venv: the backend starts it.
CODE_SERVER := $(VENV)/code-server/.installed
$(CODE_SERVER): scripts/ensure-code-server.sh | $(STAMP)
	sh scripts/ensure-code-server.sh $(VENV)
	touch $(CODE_SERVER)

install: $(STAMP) $(LABEXT) $(CODE_SERVER)

# Regenerate the extension's wire types from the backend's OpenAPI document.
types: install
	mkdir -p build
	$(PY) -m plait server openapi -o build/openapi.json
	cd $(EXT) && npx openapi-typescript ../build/openapi.json -o src/api/schema.d.ts

run: install
	VENV=$(VENV) scripts/run.sh

# The backend tests run against a real PostgreSQL: install it first if missing.
# The browser tests drive the system's Chromium: install it first if missing.
# Screenshots of every browser test land in $(SCREENSHOTS)/, printed at the end.
test: install
	sh scripts/ensure-postgres.sh
	sh scripts/ensure-chromium.sh
	cd $(EXT) && npm test --silent
	rm -rf $(SCREENSHOTS)
	status=0; PLAIT_SCREENSHOTS=$(CURDIR)/$(SCREENSHOTS) $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	  echo "Browser test screenshots: $(CURDIR)/$(SCREENSHOTS)/ ($$(ls $(SCREENSHOTS) 2>/dev/null | wc -l) files)"; \
	  exit $$status

# Both run in CI (.ci/run) before the tests, and fail it on any finding.
lint: install
	$(VENV)/bin/ruff check kernel backend workspaces jupyter_ext/server tests benchmarks

bench: install
	$(PY) benchmarks/run.py
	$(PY) benchmarks/notebook.py
	$(PY) benchmarks/backend.py
	$(PY) benchmarks/environments.py
	$(PY) benchmarks/load.py
	$(PY) benchmarks/lab.py
	$(PY) benchmarks/pools.py
	$(PY) benchmarks/actors.py
	$(PY) benchmarks/scheduler.py
	$(PY) benchmarks/rerun.py
	$(PY) benchmarks/artifacts.py
	$(PY) benchmarks/workspaces.py
	$(PY) benchmarks/apps.py
	$(PY) benchmarks/workspaces_sync.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-artifacts
	cd $(EXT) && rm -rf node_modules lib labextension tsconfig.tsbuildinfo

# mypy reads the import names of the folders (plait -> kernel/, plait.backend ->
# backend/, ...) from a tree of links, since it cannot follow the editable
# install's import hook; the files it checks strictly are in pyproject.toml.
TYPECHECK := build/typecheck
typecheck: install
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/plait
	for f in kernel/*; do ln -s $(CURDIR)/$$f $(TYPECHECK)/plait/; done
	ln -s $(CURDIR)/backend $(TYPECHECK)/plait/backend
	ln -s $(CURDIR)/workspaces $(TYPECHECK)/plait/workspaces
	ln -s $(CURDIR)/jupyter_ext/server $(TYPECHECK)/plait/lab
	cd $(TYPECHECK) && $(CURDIR)/$(VENV)/bin/mypy --config-file $(CURDIR)/pyproject.toml
