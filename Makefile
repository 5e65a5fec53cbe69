# RoadCall DR automation. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# sam-cli must never phone home: this machine, and CI, reach nothing but the package registries.
export SAM_CLI_TELEMETRY := 0

PYTHON ?= $(shell ls -d $$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/3.13*/bin/python3 2>/dev/null | head -1 || true)
ifeq ($(strip $(PYTHON)),)
PYTHON := python3
endif
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
STAGE ?= dev
ASL_VALIDATOR := node_modules/.bin/asl-validator

.PHONY: help install drill test faults iam-removal test-sfn-local lint lint-sizes checkov build deploy bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/drctl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(SAM): Makefile
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)
	@touch $@

$(CHECKOV): Makefile
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	@touch $@

$(ASL_VALIDATOR): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

install: $(BIN)/drctl $(SAM) $(ASL_VALIDATOR) ## build the project venv, the sam-cli tool venv and the ASL validator
	@echo "installed: $(BIN)/drctl, $(SAM), $(ASL_VALIDATOR)"

drill: $(BIN)/drctl ## run a failover drill end to end on the embedded AWS (no account needed)
	$(BIN)/drctl drill failover

test: $(BIN)/drctl $(ASL_VALIDATOR) ## run the whole test suite offline (npm ci brings the pinned chart.js and mermaid the dashboard and timeline tests read)
	$(BIN)/pytest -n 2 --dist loadgroup

JOBS ?= 1
faults: $(BIN)/drctl ## the fault matrix: every operation of every workflow failed 4 ways x 2 (928 cells, about 45 minutes with JOBS=2 on 2 cores)
	$(BIN)/python -m tests.faults.matrix --jobs $(JOBS) --log faults.jsonl

iam-removal: $(BIN)/drctl ## remove each permission a drill uses, one at a time: every drill must then be denied (minutes)
	IAM_REMOVAL=all $(BIN)/pytest tests/localcloud/test_iam_template.py -p no:randomly

test-sfn-local: $(BIN)/drctl ## run tests/sfn_mocks' cases on Step Functions Local at SFN_LOCAL_ENDPOINT (skipped, saying why, if unset)
	$(BIN)/pytest tests/sfn_mocks/test_sfn_local.py -p no:randomly -rs

lint: $(BIN)/drctl $(SAM) $(ASL_VALIDATOR) ## ruff, mypy, cfn-lint, sam validate --lint, asl-validator, ASL conventions
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --region us-west-2
	$(ASL_VALIDATOR) --silent $(addprefix --json-path ,$(wildcard statemachines/*.asl.json))
	$(BIN)/python tools/asl_conventions.py .

lint-sizes: $(BIN)/drctl $(SAM) ## cfn-lint and sam validate --lint on template.yaml with 1, 5 and 8 tables (Fn::ForEach)
	$(BIN)/python tools/template_sizes.py --cfn-lint $(BIN)/cfn-lint --sam $(SAM)

checkov: $(CHECKOV) ## checkov over template.yaml; the checks .checkov.yaml skips are justified in docs/security.md
	BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false $(CHECKOV) --config-file .checkov.yaml --skip-download -f template.yaml

# sam builds the python3.13 runtime with a `python3.13` it finds on PATH: the one make found (pyenv or
# PYTHON=...) goes first, whatever the default python is.
SAM_PATH := $(abspath $(dir $(shell command -v $(PYTHON) 2>/dev/null || echo $(PYTHON)))):$(PATH)

build: $(SAM) ## sam build: the dependencies layer + the function code, bytecode compiled; prints the zipped size
	@PATH="$(SAM_PATH)" command -v python3.13 >/dev/null || { echo "build: no python3.13 on PATH (make PYTHON=/path/to/python3.13 build)"; exit 1; }
	PATH="$(SAM_PATH)" $(SAM) build
	PATH="$(SAM_PATH)" python3.13 -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build
	$(BIN)/python tools/artifact_size.py .aws-sam/build

deploy: build ## sam deploy to STAGE (dev|prod|prod-primary), e.g. make deploy STAGE=prod, then STAGE=prod-primary
	$(SAM) deploy --config-env $(if $(filter prod prod-primary,$(STAGE)),$(STAGE),default)

bench: $(BIN)/drctl ## print the drill's wall time, transitions, cold imports and modeled RTO
	$(BIN)/python bench/run.py

clean: ## remove the venvs, node_modules and build output
	rm -rf $(VENV) .tools node_modules .aws-sam
