# FHIRPulse — the two commands a newcomer needs: `make demo` and `make test`.
# Everything they need is bootstrapped here: the venv, then jars, Trino 476 and JDKs into caches outside git.

PYTHON ?= $(shell command -v python3.11 || echo python3.11)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: bootstrap demo test test-unit test-integration package lint up down clean help

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "FHIRPulse needs Python 3.11 (Glue 5.0)"' \
		|| { echo "Python 3.11 not found: install it or run make PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

bootstrap: $(STAMP)  ## venv + jars + Trino 476 + JDKs (idempotent; no download when cached)
	@$(BIN)/fhirpulse deps fetch > /dev/null

demo: bootstrap  ## run the pipeline end to end on the embedded stack and print the KPIs
	$(BIN)/fhirpulse demo

test: bootstrap  ## unit tests, then integration tests on the embedded stack
	@$(BIN)/fhirpulse deps tools > /dev/null
	$(BIN)/pytest tests/unit
	$(BIN)/pytest tests/integration

test-unit: bootstrap
	$(BIN)/pytest tests/unit

test-integration: bootstrap
	@$(BIN)/fhirpulse deps tools > /dev/null
	$(BIN)/pytest tests/integration

package: $(STAMP)  ## build dist/: the Glue job library and Lambda zips Terraform deploys
	$(BIN)/fhirpulse package

lint: bootstrap  ## ruff
	$(BIN)/ruff check .

up: bootstrap  ## start the embedded stack and leave it running
	$(BIN)/fhirpulse stack up

down:  ## stop the embedded stack
	-$(BIN)/fhirpulse stack down

clean: down  ## remove the venv and local state (caches outside the repo stay)
	rm -rf $(VENV) .state
