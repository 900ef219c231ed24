# Srai et al. (2020) compendium. `make help` lists the targets.
#
# `make` builds the virtual environment from requirements.lock (when missing or older than the
# lock), registers its Jupyter kernel, and executes the notebooks with papermill, each only when
# one of its inputs changed. Executed copies go to build/<run>/; tables to data/processed/<run>/;
# figures to figures/<run>/.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
MAKEFLAGS += --jobs=2 --output-sync=target

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := srai2020-dm
RUN ?= paper
BUILD := build/$(RUN)

# Deterministic runs: fixed hash seed for the kernels too; Jupyter's new path scheme (no warning).
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

RAW := data/raw
FRAMEWORK := $(RAW)/framework.yaml
STUDY_DATA := $(FRAMEWORK) $(RAW)/themes.yaml $(RAW)/production-models.yaml \
	$(RAW)/design-rules.yaml $(wildcard $(RAW)/cases/*.yaml) $(wildcard $(RAW)/observations/*.yaml)
SRC := $(wildcard src/crosscase/*.py)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))
EXECUTED := $(patsubst notebooks/%,$(BUILD)/%,$(NOTEBOOKS))
PAPERMILL := $(BIN)/crosscase run -k $(KERNEL)

.PHONY: all help venv test lab clean lock relock outputs

all: $(EXECUTED) outputs ## Build the environment if needed, run every notebook, list the outputs

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

venv: $(STAMP) ## Create .venv from requirements.lock and register its Jupyter kernel

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --requirement requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 ($(KERNEL))" >/dev/null
	touch $@

# Each notebook re-runs only when its own inputs change. 01-04 read the whole study (they
# validate it on load); 05 reads only the framework.
$(BUILD)/05-%.ipynb: notebooks/05-%.ipynb $(FRAMEWORK) $(SRC) $(STAMP)
	$(PAPERMILL) $< $@ -p run=$(RUN)

$(BUILD)/%.ipynb: notebooks/%.ipynb $(STUDY_DATA) $(SRC) $(STAMP)
	$(PAPERMILL) $< $@ -p run=$(RUN)

outputs: $(EXECUTED) ## Print where each table and figure of the paper was written
	@printf '%s\n' \
	  "Paper item          Notebook                               Output" \
	  "Table 1             01-cases.ipynb                         data/processed/$(RUN)/table-1-case-protocols.{csv,md}" \
	  "Table 2             01-cases.ipynb                         data/processed/$(RUN)/table-2-within-case-narratives.{csv,md}" \
	  "Table 3 (body)      02-first-order-coding.ipynb            data/processed/$(RUN)/table-3-first-order-observations.{csv,md}" \
	  "Table 3             03-second-order-themes.ipynb           data/processed/$(RUN)/table-3-cross-case-data-display.{csv,md}" \
	  "Table 3, last col.  03-second-order-themes.ipynb           data/processed/$(RUN)/second-order-themes.{csv,md}" \
	  "Theme x case        03-second-order-themes.ipynb           figures/$(RUN)/theme-case-heatmap.{png,svg}" \
	  "Table 4             04-production-model-comparison.ipynb   data/processed/$(RUN)/table-4-production-model-comparison.{csv,md}" \
	  "Design rules (s.5)  04-production-model-comparison.ipynb   data/processed/$(RUN)/design-rules.{csv,md}" \
	  "Figure 1            05-research-framework.ipynb            figures/$(RUN)/figure-1-research-framework.{png,svg}" \
	  "Appendix            05-research-framework.ipynb            data/processed/$(RUN)/appendix-interview-protocol.{csv,md}" \
	  "Executed notebooks: $(BUILD)/"

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
