# Srai et al. (2020) compendium. `make help` lists the targets.
#
# `make` builds the virtual environment from requirements.lock (when missing or older than the
# lock), registers its Jupyter kernel, and executes the notebooks with papermill, each only when
# one of its inputs changed. Executed copies go to build/<run>/; tables to data/processed/<run>/;
# figures to figures/<run>/.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += --jobs=2 --output-sync=target
endif

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := srai2020-dm

# Deterministic runs: fixed hash seed for the kernels too; Jupyter's new path scheme (no warning).
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Parameters of a run (make variables -> papermill parameters). The defaults reproduce the paper;
# a run under another RUN name writes to its own folders and never touches the paper's.
RUN ?= paper
CASES ?= data/raw/cases
MIN_CASES ?= 3
MIN_SHARE ?=
PAPER_DEFAULTS := paper|data/raw/cases|3|
ifeq ($(RUN),paper)
ifneq ($(RUN)|$(strip $(CASES))|$(MIN_CASES)|$(MIN_SHARE),$(PAPER_DEFAULTS))
$(error RUN=paper is the paper's reproduction: give another run a name of its own, e.g. RUN=my-cases)
endif
endif
# A misspelt variable on the command line is an error, not a silently ignored default.
KNOWN_VARS := RUN CASES MIN_CASES MIN_SHARE CASE NAME INTO PYTHON SIZES
UNKNOWN_VARS := $(filter-out $(KNOWN_VARS),$(foreach v,$(MAKEOVERRIDES),$(if $(findstring =,$(v)),$(firstword $(subst =, ,$(v))))))
ifneq ($(strip $(UNKNOWN_VARS)),)
$(error unknown variable(s) $(UNKNOWN_VARS); known: $(KNOWN_VARS))
endif

BUILD := build/$(RUN)
RAW := data/raw
FRAMEWORK := $(RAW)/framework.yaml
comma := ,
empty :=
space := $(empty) $(empty)
# The files a case set brings: its case files, their observations, and an added themes.yaml.
CASE_FILES := $(foreach c,$(CASES),$(if $(filter %.yaml,$(c)),$(c) $(wildcard $(dir $(c))../observations/$(notdir $(c))),$(wildcard $(c)/*.yaml) $(wildcard $(c)/../observations/*.yaml) $(wildcard $(c)/../themes.yaml)))
STUDY_DATA := $(FRAMEWORK) $(RAW)/themes.yaml $(RAW)/production-models.yaml \
	$(RAW)/design-rules.yaml $(wildcard $(RAW)/cases/*.yaml) $(wildcard $(RAW)/observations/*.yaml) \
	$(CASE_FILES)
SRC := $(wildcard src/crosscase/*.py)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))
EXECUTED := $(patsubst notebooks/%,$(BUILD)/%,$(NOTEBOOKS))
RUNNER := $(BIN)/crosscase run -k $(KERNEL)
P_RUN := -p run=$(RUN)
P_CASES := $(P_RUN) -p 'cases=[$(subst $(space),$(comma) ,$(strip $(CASES)))]'
P_RULE := $(P_CASES) -p min_cases=$(MIN_CASES) $(if $(MIN_SHARE),-p min_share=$(MIN_SHARE))

.PHONY: all help venv test lab clean lock relock outputs example validate new-case bench report qda

all: $(EXECUTED) outputs ## Build the environment if needed, run every notebook, list the outputs

help: ## List the targets and the variables of a run
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'
	@echo "Variables: RUN (output folder, default paper), CASES (case folders or files),"
	@echo "  MIN_CASES (default 3), MIN_SHARE (e.g. 0.6); e.g. make RUN=t4 MIN_CASES=4"

venv: $(STAMP) ## Create .venv from requirements.lock and register its Jupyter kernel

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --requirement requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 ($(KERNEL))" >/dev/null
	touch $@

# Each notebook re-runs only when its own inputs change; each gets exactly the parameters it
# declares (the runner refuses any other). 05 reads only the framework.
$(BUILD)/05-%.ipynb: notebooks/05-%.ipynb $(FRAMEWORK) $(SRC) $(STAMP)
	$(RUNNER) $< $@ $(P_RUN)

$(BUILD)/01-%.ipynb: notebooks/01-%.ipynb $(STUDY_DATA) $(SRC) $(STAMP)
	$(RUNNER) $< $@ $(P_CASES)

$(BUILD)/02-%.ipynb: notebooks/02-%.ipynb $(STUDY_DATA) $(SRC) $(STAMP)
	$(RUNNER) $< $@ $(P_CASES)

$(BUILD)/07-%.ipynb: notebooks/07-%.ipynb $(STUDY_DATA) $(SRC) $(STAMP)
	$(RUNNER) $< $@ $(P_CASES)

$(BUILD)/%.ipynb: notebooks/%.ipynb $(STUDY_DATA) $(SRC) $(STAMP)
	$(RUNNER) $< $@ $(P_RULE)

outputs: $(EXECUTED) ## Print where each table and figure of the paper was written (notebooks/paper-map.yaml)
ifeq ($(RUN),paper)
	@$(BIN)/python -m crosscase.papermap --run $(RUN)
else
	@echo "Run $(RUN): tables in data/processed/$(RUN)/, figures in figures/$(RUN)/, notebooks in $(BUILD)/"
	@test ! -f data/processed/$(RUN)/discriminator-changes.md || \
		{ echo "What changed against the paper (data/processed/$(RUN)/discriminator-changes.md):"; \
		  cut -d'|' -f4,5,6,7 data/processed/$(RUN)/discriminator-changes.md; }
endif

example: $(STAMP) ## Run the illustrative extra case (examples/illustrative) into its own folder
	$(MAKE) --no-print-directory RUN=illustrative CASES="data/raw/cases examples/illustrative/cases"

validate: $(STAMP) ## Check the study data (CASES=...) and report every problem; writes nothing
	$(BIN)/crosscase validate $(CASES)

new-case: $(STAMP) ## Start a new case from the template: make new-case CASE=my-case NAME="My case" [INTO=folder]
	@test -n "$(CASE)" -a -n "$(NAME)" || { echo 'usage: make new-case CASE=<id> NAME="<name>" [INTO=<case-set folder>]'; exit 2; }
	$(BIN)/crosscase new-case --id "$(CASE)" --name "$(NAME)" $(if $(INTO),--into "$(INTO)")

report: $(EXECUTED) ## Static HTML report of the run (build/report/index.html), offline
	$(BIN)/python -m crosscase.report --run $(RUN) --out build/report$(if $(filter-out paper,$(RUN)),-$(RUN))

qda: $(STAMP) ## Export the coded study for QDA tools: REFI-QDA codebook (.qdc) and project (.qdpx)
	$(BIN)/python -m crosscase.qda --run $(RUN) --cases $(CASES)

bench: $(STAMP) ## Time every stage on synthetic case sets (SIZES="5 50 500 2000")
	$(BIN)/python -m crosscase.bench --sizes $(or $(SIZES),5 50 500 2000) --out data/processed/bench --figures figures/bench

test: $(STAMP) ## Lint, type-check, then unit, paper-fidelity and nbval tests in one pytest run
	$(BIN)/ruff check src tests notebooks
	$(BIN)/ruff format --check src tests notebooks
	$(BIN)/mypy
	$(BIN)/pytest

lab: $(STAMP) ## Open the notebooks in JupyterLab (in this environment)
	$(BIN)/jupyter lab notebooks/

relock: $(STAMP) ## Re-execute the committed notebooks in place (their outputs are the nbval locks)
	for nb in $(NOTEBOOKS); do $(BIN)/crosscase run -k $(KERNEL) $$nb $$nb || exit 1; done

lock: ## Regenerate requirements.lock from requirements.in in a fresh virtual environment
	rm -rf build/lockenv
	$(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install --quiet --upgrade pip
	build/lockenv/bin/python -m pip install --quiet --requirement requirements.in
	{ echo "# Pinned by \`make lock\` from requirements.in (pip freeze of a fresh Python 3.11 venv). Do not edit by hand."; \
	  build/lockenv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf build/lockenv

clean: ## Remove executed notebooks, tables and figures (keeps .venv)
	rm -rf build data/processed/*/ figures/*/
