# The course's two everyday commands:
#   make lab    create the environment if it is missing, then open JupyterLab on notebooks/
#   make test   create the environment if it is missing, then run the whole test suite
# Both need only Python 3.10+ with venv (no conda). Conda users: see environment.yml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls helper commands (alembic) by name: the environment's bin/ goes first.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: lab test student bench clean-env

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# One BLAS thread, in JupyterLab as in the tests: the course's matrices are small, where
# extra BLAS threads only add overhead, and a notebook's timings then match the test run's.
lab test: export OPENBLAS_NUM_THREADS := 1
lab test: export OMP_NUM_THREADS := 1
lab test: export MKL_NUM_THREADS := 1

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

student: $(STAMP)
	$(BIN)/python -m rnn_helpers.instructor.release

# The speed figures: the course's kernels beside PyTorch's (installs the optional torch
# extra if it is missing), then the execution time of every solution notebook.
bench: $(STAMP)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[torch]"
	$(BIN)/python benchmarks/kernels_vs_torch.py
	$(BIN)/python benchmarks/notebook_times.py --grading

clean-env:
	rm -rf $(VENV)
