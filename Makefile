# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE ?= $(CURDIR)/node
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test bench install langdata clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed

# MediaWiki's language data, generated from Debian's mediawiki package (not kept in git: docs/rendering.md).
# Fast when already built: the script exits at once when its output is up to date.
langdata: install
	bash scripts/system-deps.sh langdata
	$(BIN)/python scripts/build_langdata.py

run: install langdata
	$(BIN)/wikipeer --node $(NODE) init --sample
	$(BIN)/wikipeer --node $(NODE) serve --host $(HOST) --port $(PORT)

test: install langdata
	bash scripts/system-deps.sh
	$(BIN)/python -m pytest

bench: install langdata
	bash scripts/system-deps.sh bench
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build *.egg-info bench/out src/wikipeer/render/language_data.sqlite
