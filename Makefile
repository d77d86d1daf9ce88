# The two commands: `make demo` (the main job end to end) and `make test` (every test, real services).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NEWSFLOW := $(BIN)/newsflow

.PHONY: demo test check install system-deps stack-up stack-down unit integration drills bench clean

CHECKED := pipeline tests dags benchmarks kibana examples scripts

demo: install system-deps  ## install, start the local stack, pull the seeds through every stage, show the result
	$(NEWSFLOW) stack up
	$(NEWSFLOW) init
	$(NEWSFLOW) ingest seeds
	$(NEWSFLOW) run --timeout 900
	$(NEWSFLOW) audit
	$(NEWSFLOW) search "drone attack" --details
	@echo
	@echo "The stack is still running: '$(NEWSFLOW) stack status', stop it with '$(NEWSFLOW) stack down'."

test: install check  ## the checks, then unit and integration tests (they start and stop their own stack and Airflow)
	NEWSFLOW_WITH_BROWSER=1 scripts/system-deps.sh
	$(BIN)/pytest tests -q

check: install  ## lint, formatting, types and the direction of imports
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest tests/unit -q

integration: install system-deps
	$(BIN)/pytest tests/integration -q

drills: install system-deps  ## only the fault drills (part of `make test` too); the table lands in test-artifacts/drills.md
	$(BIN)/pytest tests/integration -q -m drill

bench: install system-deps  ## benchmarks against a private stack; results in benchmarks/results/
	$(BIN)/python benchmarks/bench_chain.py
	$(BIN)/python benchmarks/bench_chain_real.py

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,model,airflow]'
	touch $@

system-deps:
	scripts/system-deps.sh

stack-up: install
	$(NEWSFLOW) stack up

stack-down:
	$(NEWSFLOW) stack down

clean: stack-down
	rm -rf .stack
