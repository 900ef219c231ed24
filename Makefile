# Srai et al. (2020) compendium. `make help` lists the targets.
#
# `make` builds the virtual environment from requirements.lock (when missing or older than the
# lock), records the run (its case set and rule, once the case set validates), then executes the
# notebooks with papermill, each only when what it reads changed: its run's record (which
# changes with the case set, the rule or any input file) and the package modules it imports.
# Executed copies go to build/<run>/; tables to data/processed/<run>/; figures to figures/<run>/.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# Two notebooks at once; each line of a recipe printed whole as soon as it ends (so a notebook's
# "started" line shows while it runs, and two notebooks' reports never interleave mid-line),
# except for interactive goals: make would hold JupyterLab's address until the server stopped.
INTERACTIVE_GOALS := lab
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += --jobs=2 --no-print-directory
ifeq ($(filter $(INTERACTIVE_GOALS),$(MAKECMDGOALS)),)
MAKEFLAGS += --output-sync=line
endif
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
# One BLAS/OpenMP thread per kernel: make already runs two notebooks at once on two cores, and
# BLAS threads competing with the other notebook make numeric code many times slower.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

# A run: RUN names it (default: the study's reproduction, named in data/raw/study.yaml). CASES,
# MIN_CASES and MIN_SHARE, when given, are recorded with the run's outputs
# (data/processed/<run>/run.yaml) once the case set validates; later calls with the same RUN reuse
# the record, and another case set or rule for a recorded run is refused unless OVERWRITE=1. Each
# notebook gets the parameters it declares.
RUN ?= $(shell sed -n 's/^reproduction: *//p' data/raw/study.yaml)
KNOWN_VARS := RUN CASES MIN_CASES MIN_SHARE OVERWRITE CASE NAME INTO PYTHON SIZES QDPX FULL LAB_ARGS
# Every variable set on the command line (a value may hold spaces and '=': LAB_ARGS="--port=8888").
UNKNOWN_VARS := $(filter-out $(KNOWN_VARS),$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))
ifneq ($(strip $(UNKNOWN_VARS)),)
$(error unknown variable(s) $(UNKNOWN_VARS); known: $(KNOWN_VARS))
endif
RUN_OPTIONS := $(if $(CASES),--cases $(CASES)) $(if $(MIN_CASES),--min-cases $(MIN_CASES)) \
	$(if $(MIN_SHARE),--min-share $(MIN_SHARE)) $(if $(OVERWRITE),--overwrite)

BUILD := build/$(RUN)
RECORD := data/processed/$(RUN)/run.yaml
# What each notebook reads (its run's record or the framework; the modules it imports).
READS := build/notebooks.mk
SRC := $(wildcard src/crosscase/*.py src/crosscase/*/*.py)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))
# Last notebook first: the later notebooks do the most work, and starting them first keeps both
# cores busy to the end (make -j2 starts prerequisites in the order listed).
EXECUTED := $(patsubst notebooks/%,$(BUILD)/%,$(shell printf '%s\n' $(NOTEBOOKS) | sort -r))

.PHONY: all help venv test test-workflow test-others check-code lab clean update-pins relock outputs \
	example validate new-case bench report qda install-check binder-check FORCE

all: $(EXECUTED) outputs ## Build the environment if needed, run every notebook, list the outputs

help: ## List the targets and the variables of a run
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'
	@echo "Variables: RUN (run name; default $(RUN), the reproduction), CASES (case folders or"
	@echo "  files), MIN_CASES, MIN_SHARE (e.g. 0.6; by default the study's rule, data/raw/study.yaml),"
	@echo "  OVERWRITE=1 (re-make a recorded run with new ones); e.g. make RUN=t4 MIN_CASES=4."
	@echo "  LAB_ARGS: JupyterLab options for make lab, e.g. LAB_ARGS=\"--ip=0.0.0.0 --port=8888\""
	@echo "  in a container (docs/reviewing.md); FULL=1: make bench's full sweep"

venv: $(STAMP) ## Create .venv from requirements.lock and register its Jupyter kernel

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --requirement requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 ($(KERNEL))" >/dev/null
	touch $@

# The run is recorded first, every time (its recipe is quick when nothing changed): the record is
# rewritten, once the case set validates, only when the case set, the rule or an input changed,
# and the notebooks that read it re-run only then. Bad data stop here with one report, nothing
# written. The rules of what each notebook reads are made from the notebooks and the package.
RUN_GOALS := all outputs report qda $(EXECUTED) $(RECORD)
ifneq ($(filter $(RUN_GOALS),$(or $(MAKECMDGOALS),all)),)
$(RECORD): FORCE $(STAMP)
	@$(BIN)/crosscase record --run $(RUN) $(strip $(RUN_OPTIONS))
$(READS): $(NOTEBOOKS) $(SRC) $(STAMP)
	@$(BIN)/crosscase notebook-rules --out $@
include $(READS)
endif

# A notebook re-runs when it, the environment or what it reads changes (in $(READS)); the run is
# recorded (and its case set validated) before any notebook starts.
$(BUILD)/%.ipynb: notebooks/%.ipynb $(STAMP) | $(RECORD)
	@echo "$(RUN): $(<F) started"
	@$(BIN)/crosscase execute $< $@ --run $(RUN) -k $(KERNEL)

outputs: $(EXECUTED) ## Print where each table and figure was written (notebooks/paper-map.yaml)
	@$(BIN)/crosscase outputs --run $(RUN)

example: $(STAMP) ## Run the illustrative extra case (examples/illustrative) into its own folder
	@$(MAKE) RUN=illustrative CASES="data/raw/cases examples/illustrative/cases"

validate: $(STAMP) ## Check a case set (CASES=..., default the study's) and report every problem
	$(BIN)/crosscase validate $(CASES)

new-case: $(STAMP) ## Start a new case from the template: make new-case CASE=my-case NAME="My case" [INTO=folder]
	@test -n "$(CASE)" -a -n "$(NAME)" || { echo 'usage: make new-case CASE=<id> NAME="<name>" [INTO=<case-set folder>]'; exit 2; }
	$(BIN)/crosscase new-case --id "$(CASE)" --name "$(NAME)" $(if $(INTO),--into "$(INTO)")

report: $(EXECUTED) ## Static HTML report of the run (build/<run>/report/index.html), offline
	$(BIN)/crosscase report --run $(RUN)

qda: $(RECORD) ## Export the coded study for QDA tools: REFI-QDA codebook (.qdc) and project (.qdpx)
	$(BIN)/crosscase qda --run $(RUN)

.PHONY: import-qdpx qda-check
import-qdpx: $(STAMP) ## Import a QDA tool's REFI-QDA project as a case set: make import-qdpx QDPX=<file.qdpx> INTO=<folder>
	@test -n "$(QDPX)" -a -n "$(INTO)" || { echo 'usage: make import-qdpx QDPX=<project.qdpx> INTO=data/extensions/<set> [OVERWRITE=1]'; exit 2; }
	$(BIN)/crosscase import-qdpx "$(QDPX)" --into "$(INTO)" $(if $(OVERWRITE),--overwrite)

# The second, independent REFI-QDA reader: qualitative-coding (it pulls in spaCy, so it has an
# environment of its own, pinned by tests/second-reader.lock; no spaCy model is needed).
QC_ENV := build/qc-env
$(QC_ENV)/.installed: tests/second-reader.lock
	rm -rf $(QC_ENV)
	$(PYTHON) -m venv $(QC_ENV)
	$(QC_ENV)/bin/python -m pip install --quiet --requirement $<
	touch $@

qda-check: $(STAMP) $(QC_ENV)/.installed ## Read the export with a second REFI-QDA reader (qualitative-coding) and compare with the study
	@$(MAKE) qda RUN=$(RUN)
	$(BIN)/python tests/second_reader.py --qc $(QC_ENV)/bin/qc --run $(RUN) --work build/qc-check/$(RUN)

# The headline figures in a few minutes; FULL=1 for the full sweep (larger case sets and
# narratives, three rounds of the workflow).
BENCH_SIZES := $(if $(FULL),5 50 500 2000,5 50 200)
BENCH_TEXT := $(if $(FULL),,--sizes 100000 1000000)
bench: $(STAMP) ## Stages on synthetic case sets, long narratives, make and make test against their floor (FULL=1: the full sweep)
	$(BIN)/python benchmarks/bench.py --sizes $(or $(SIZES),$(BENCH_SIZES)) --out data/processed/bench --figures figures/bench
	$(BIN)/python benchmarks/longtext.py --out data/processed/bench $(BENCH_TEXT)
	$(BIN)/python benchmarks/workflow.py --out data/processed/bench --repeat $(if $(FULL),3,1) --test

# Two processes on two cores: nbval and the tests that read its outputs in one; the code checks,
# then every other test, in the other. (A plain `pytest` runs them all in one process.)
test: test-workflow test-others ## Lint and type-check; unit, paper-fidelity, nbval and browser tests

test-workflow: $(STAMP)
	$(BIN)/pytest -m workflow

test-others: check-code
	$(BIN)/pytest -m "not workflow"

check-code: $(STAMP)
	$(BIN)/ruff check src tests notebooks benchmarks
	$(BIN)/ruff format --check src tests notebooks benchmarks
	$(BIN)/mypy

install-check: ## Install the package alone (pip install .[all]) in a fresh venv and import every module
	rm -rf build/install-check
	$(PYTHON) -m venv build/install-check
	# setuptools builds in place (build/lib, build/bdist.*): install a copy of the sources, so
	# nothing lands among the runs in build/
	mkdir -p build/install-check/source
	cp -R pyproject.toml README.md LICENSE LICENSE-DATA src build/install-check/source/
	rm -rf build/install-check/source/src/*.egg-info
	build/install-check/bin/python -m pip install --quiet --constraint requirements.lock \
		"./build/install-check/source[all]"
	cd build && install-check/bin/python ../tests/install_check.py
	rm -rf build/install-check

# Binder (repo2docker) builds from binder/: the Python of runtime.txt, requirements.txt (the lock),
# postBuild (the package and the notebooks' kernel). The check builds that environment the same
# way without Docker, in build/binder-check/, runs every notebook there under nbval with the
# kernel it names, and reads what repo2docker --no-build would build (tests/binder_check.py).
binder-check: ## Build the Binder environment from binder/ as repo2docker would (no Docker) and run the notebooks in it
	$(PYTHON) tests/binder_check.py --work build/binder-check

# JupyterLab prints its address (with its token) as it starts. As root (a container, a cloud
# VM) it needs --allow-root; with no desktop (no DISPLAY or WAYLAND_DISPLAY, not macOS) it opens
# no browser: the printed address is the way in. LAB_ARGS adds JupyterLab options, e.g.
# LAB_ARGS="--ip=0.0.0.0 --port=8888" in a container (docs/reviewing.md).
LAB_OPTIONS = $(if $(filter 0,$(shell id -u)),--allow-root) \
	$(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),,--no-browser)
lab: $(STAMP) ## Open the notebooks in JupyterLab, printing its address (as root too; options: LAB_ARGS="...")
	$(BIN)/jupyter lab notebooks/ $(strip $(LAB_OPTIONS) $(LAB_ARGS))

relock: $(STAMP) ## Re-execute the committed notebooks in place (their outputs are the nbval locks)
	for nb in $(NOTEBOOKS); do $(BIN)/crosscase execute -k $(KERNEL) $$nb $$nb || exit 1; done

update-pins: ## Re-resolve requirements.in into requirements.lock in a fresh virtual environment
	rm -rf build/lockenv
	$(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install --quiet --upgrade pip
	build/lockenv/bin/python -m pip install --quiet --requirement requirements.in
	{ echo "# Pinned by \`make update-pins\` from requirements.in (pip freeze of a fresh Python 3.11 venv). Do not edit by hand."; \
	  build/lockenv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf build/lockenv

FORCE:

clean: ## Remove executed notebooks, tables and figures (keeps .venv)
	rm -rf build data/processed/*/ figures/*/
