# FHIRPulse — the two commands a newcomer needs: `make demo` and `make test`.
# Everything they need is bootstrapped here: the venv, then jars, Trino 476 and JDKs into caches outside git.

PYTHON ?= $(shell command -v python3.11 || echo python3.11)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: bootstrap demo test test-all test-reliability bench test-unit test-integration test-containers package lint up down logs pipeline clean help

# FHIRPULSE_MODE=compose switches up/down/logs/pipeline to the Docker Compose stack (docker-compose.yml);
# the default is the embedded stack (no Docker), which `make demo` and `make test` use.
FHIRPULSE_MODE ?= embedded
COMPOSE := docker compose -f docker-compose.yml

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

test: bootstrap  ## unit tests, integration tests on the embedded stack, container tests (skip without Docker)
	@$(BIN)/fhirpulse deps tools > /dev/null
	$(BIN)/pytest tests/unit
	$(BIN)/pytest tests/integration tests/reliability
	$(BIN)/pytest tests/containers

test-all: test  ## make test, then the slow reliability cases (fault injection at every commit boundary) and a 10x longer property-test hunt on random examples
	$(BIN)/pytest tests/reliability -m slow
	FHIRPULSE_PROPERTY_SCALE=10 FHIRPULSE_HYPOTHESIS_PROFILE=hunt $(BIN)/pytest tests/unit/property

test-reliability: bootstrap  ## only the reliability suite, slow cases included
	$(BIN)/pytest tests/reliability -m "slow or not slow"

bench: bootstrap  ## the benchmark suite (bench/suite.py): every BENCHMARKS.md figure, one after another; alone on the machine
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

test-unit: bootstrap
	$(BIN)/pytest tests/unit

test-integration: bootstrap
	@$(BIN)/fhirpulse deps tools > /dev/null
	$(BIN)/pytest tests/integration tests/reliability

test-containers: bootstrap  ## the compose stack under testcontainers (needs a Docker engine)
	$(BIN)/pytest tests/containers

package: $(STAMP)  ## build dist/: the Glue job library and Lambda zips Terraform deploys
	$(BIN)/fhirpulse package

lint: bootstrap  ## ruff
	$(BIN)/ruff check .

ifeq ($(FHIRPULSE_MODE),compose)
up: bootstrap  ## start the stack and leave it running (FHIRPULSE_MODE=compose: Docker Compose)
	$(BIN)/fhirpulse deps export-jars .state/compose/jars
	$(COMPOSE) up -d --build --wait
	@echo "compose stack up (config/compose.json):"
	@echo "  AWS (LocalStack 4.14.0)   http://127.0.0.1:4566"
	@echo "  Glue catalog (moto)       http://127.0.0.1:5000"
	@echo "  Trino 476                 http://127.0.0.1:8080   (catalogs hive, hudi)"
	@echo "  Spark master UI           http://127.0.0.1:8081   (more workers: $(COMPOSE) up -d --scale spark-worker=N)"
	@echo "  uploads to s3://fhirpulse-compose-lake/raw/fhir/ start the workflow; make pipeline runs it now"

down:  ## stop the stack
	$(COMPOSE) down

logs:  ## follow the stack's logs
	$(COMPOSE) logs -f --tail 200

pipeline:  ## run bronze -> silver -> gold now
	$(COMPOSE) exec jobs fhirpulse run pipeline
else
up: bootstrap
	$(BIN)/fhirpulse stack up

down:
	-$(BIN)/fhirpulse stack down

logs:
	tail -F .state/*.log .state/logs/spark.log

pipeline: bootstrap
	$(BIN)/fhirpulse run pipeline
endif

clean: down  ## remove the venv and local state (caches outside the repo stay)
	rm -rf $(VENV) .state
