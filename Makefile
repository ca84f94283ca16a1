# The course's two everyday commands:
#   make lab    create the environment if it is missing, then open JupyterLab on notebooks/
#               as a student sees it (nbgrader's instructor tools off: hub/student_lab, hub/laptop_lab)
#   make test   create the environment if it is missing, then run the whole test suite
#   make sealed-lab  the same students' lab from .venv-sealed, a regular (not editable) install
#               of the package without the reference implementations of the graded functions
#               (rnn_helpers/instructor/sealing.py): for a course graded for credit;
#               SEALED_OPEN_THROUGH=NN keeps whole the exercises of notebooks 01..NN (chapters already due)
# Instructors: `make instructor-lab` opens JupyterLab on the course folder with the
# formgrader and Create Assignment; `make site` builds the course website into site/_build/html.
# Both need only Python 3.10+ with venv (no conda). Conda users: see environment.yml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls helper commands (alembic) by name: the environment's bin/ goes first.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: lab sealed-lab instructor-lab test test-slow student site bench clean-env

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The sealed copy is rebuilt whenever the package or SEALED_OPEN_THROUGH changes (the old one
# uninstalled first: pip keeps an installed package of the same version); its .pyc hold only
# the stubs. Default: every exercise sealed.
SEALED_OPEN_THROUGH ?=
SEALED_VENV  := .venv-sealed
SEALED_STAMP := $(SEALED_VENV)/.installed-open-through-$(or $(SEALED_OPEN_THROUGH),none)
$(SEALED_STAMP): pyproject.toml $(shell find rnn_helpers -name '*.py' -o -name '*.npz')
	test -x $(SEALED_VENV)/bin/python || $(PYTHON) -m venv $(SEALED_VENV)
	$(SEALED_VENV)/bin/python -m pip install --quiet --upgrade pip
	rm -rf $(SEALED_VENV)/package $(SEALED_VENV)/.installed-open-through-*
	$(SEALED_VENV)/bin/python rnn_helpers/instructor/sealing.py $(SEALED_VENV)/package \
		$(if $(SEALED_OPEN_THROUGH),--open-through $(SEALED_OPEN_THROUGH))
	$(SEALED_VENV)/bin/python -m pip uninstall --quiet --yes rnn-course 2>/dev/null || true
	$(SEALED_VENV)/bin/python -m pip install --quiet $(SEALED_VENV)/package
	rm -rf $(SEALED_VENV)/package
	touch $@

# One BLAS thread, in JupyterLab as in the tests: the course's matrices are small, where
# extra BLAS threads only add overhead, and a notebook's timings then match the test run's.
lab sealed-lab instructor-lab test test-slow site: export OPENBLAS_NUM_THREADS := 1
lab sealed-lab instructor-lab test test-slow site: export OMP_NUM_THREADS := 1
lab sealed-lab instructor-lab test test-slow site: export MKL_NUM_THREADS := 1
# The student's JupyterLab: hub/student_lab (shared with the hub's students) turns off
# nbgrader's instructor side in the server (the formgrader and course list answer 404) and in
# the page, with JupyterLab's news pop-up; hub/laptop_lab also turns off the Assignments tab,
# which needs a hub's exchange. Validate stays. It starts inside notebooks/, where the course's
# nbgrader_config.py (the instructor's) is not loaded: starting it writes nothing.
# LAB_ARGS passes options to JupyterLab (the tests give a port and a token).
lab sealed-lab: export JUPYTER_CONFIG_PATH := $(CURDIR)/hub/laptop_lab:$(CURDIR)/hub/student_lab

lab: $(STAMP)
	cd notebooks && $(abspath $(BIN))/jupyter lab $(LAB_ARGS)

sealed-lab: export PATH := $(CURDIR)/$(SEALED_VENV)/bin:$(PATH)
sealed-lab: $(SEALED_STAMP)
	cd notebooks && $(abspath $(SEALED_VENV))/bin/jupyter lab $(LAB_ARGS)

instructor-lab: $(STAMP)
	$(BIN)/jupyter lab

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# The long tests CI adds (every solution notebook in full, with the default RNN_COURSE_SEED and
# three others, grading on a TLS cluster, the slow security tests): `make test` leaves them out to
# stay under 20 minutes.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --slow -m slow

# The course website: every student notebook executed into static HTML (site/README.md).
site: $(STAMP)
	$(BIN)/python site/build.py

student: $(STAMP)
	$(BIN)/python -m rnn_helpers.instructor.release

# The speed figures: the course's kernels beside PyTorch's (installs the optional torch
# extra if it is missing), then the execution time of every solution notebook.
bench: $(STAMP)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[torch]"
	$(BIN)/python benchmarks/kernels_vs_torch.py
	$(BIN)/python benchmarks/notebook_times.py --grading

clean-env:
	rm -rf $(VENV) $(SEALED_VENV)
