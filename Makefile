# Gruppenbörse: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app marketplace
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve scheduler test test-fast bench lint format install install-dev migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed demo

## Set everything up and serve the demo district on http://$(HOST):$(PORT)
run: seed
	@echo ""
	@echo "Gruppenbörse läuft auf http://$(HOST):$(PORT)  (Beenden mit Strg+C)"
	@echo "Demo-Zugänge (Passwort jeweils: demo-passwort):"
	@echo "  Koordination Träger:  koordination@traeger-1.example"
	@echo "  ASD-Fachkraft:        asd@jugendamt.example"
	@echo "  Jugendhilfeplanung:   planung@jugendamt.example"
	@echo "  Administration:       admin@jugendamt.example"
	@echo ""
	@echo "Der Zeitplaner (nächtlicher Abgleich) läuft als eigener Prozess daneben."
	@$(FLASK) scheduler run > instance/scheduler.log 2>&1 & sched=$$!; \
	  trap 'kill $$sched 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

## Install the dev extras and run the whole suite
test: install-dev
	$(BIN)/python -m pytest -q

test-fast: install-dev
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

## Every benchmark: matching engine, recommendation on M, demo nightly run and proposals, report pages, load test (see BENCHMARKS.md)
bench: install-dev
	$(BIN)/python -m bench.matching && $(BIN)/python -m bench.recommend && $(BIN)/python -m bench.nightly && $(BIN)/python -m bench.reports \
	  && $(BIN)/python -m bench.load

lint: install-dev
	$(BIN)/ruff check marketplace seed tests bench

format: install-dev
	$(BIN)/ruff format marketplace seed tests bench

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
