# The two commands: `make run` and `make test`. Both create the virtual environment on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint bench migrate revision venv clean

venv: $(STAMP)

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m shared.migrate upgrade all
	$(BIN)/python -m shared.dev.seed
	@exec $(BIN)/python -m shared.dev.run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check shared services tests deploy bench
	$(BIN)/ruff format --check shared services tests deploy bench
	$(BIN)/mypy shared services

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# make migrate SERVICE=identity   |   make revision SERVICE=identity m="add x"
migrate: $(STAMP)
	$(BIN)/python -m shared.migrate upgrade $(or $(SERVICE),all)

revision: $(STAMP)
	$(BIN)/python -m shared.migrate revision $(SERVICE) -m "$(m)"

clean:
	rm -rf var
