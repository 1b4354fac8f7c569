# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE ?= $(CURDIR)/node
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test test-postgresql bench install langdata clean

# Each step says what it does in one line (`@`: make does not echo the commands themselves); pip is quiet.
PIP := $(BIN)/pip --quiet --disable-pip-version-check

$(BIN)/python:
	@echo "make: creating the Python environment $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	@echo "make: installing wikipeer and the Python packages it uses into $(VENV) (a minute or two the first time)"
	@$(PIP) install -e '.[test,bench]'
	@touch $@

install: $(VENV)/.installed

# MediaWiki's language data, generated from Debian's mediawiki package (not kept in git: docs/rendering.md).
# Fast when already built: the script exits at once when its output is up to date.
langdata: install
	@bash scripts/system-deps.sh langdata
	@$(BIN)/python scripts/build_langdata.py

# Ends with serve's "serving NODE on URL": open that URL; Ctrl-C stops the server.
run: install langdata
	@echo "make: the node $(NODE), with the sample wiki (made the first time)"
	@$(BIN)/wikipeer --node $(NODE) init --sample
	@$(BIN)/wikipeer --node $(NODE) serve --host $(HOST) --port $(PORT)

# Two passes (docs/testing.md): everything on both cores, then the few tests that measure load, alone.
test: install langdata
	@bash scripts/system-deps.sh
	$(BIN)/python -m pytest -n 2 -m "not serial"
	$(BIN)/python -m pytest -m serial
	@echo "make: the store-backed tests again, on PostgreSQL (servers the tests start themselves)"
	$(BIN)/python -m pytest -n 2 -m "backends and not sqlite_only and not serial" --store=postgresql

# The whole suite on PostgreSQL (docs/testing.md), not part of `make test` (which runs the `backends` modules there).
test-postgresql: install langdata
	@bash scripts/system-deps.sh
	$(BIN)/python -m pytest -n 2 -m "not serial" --store=postgresql
	$(BIN)/python -m pytest -m serial --store=postgresql

bench: install langdata
	bash scripts/system-deps.sh bench
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build *.egg-info bench/out src/wikipeer/render/language_data.sqlite
