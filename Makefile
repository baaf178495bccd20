# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SOURCES := zoo tests bench notebooks
INSTALLED := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test test-seeds notebooks lint format

# Re-install whenever the package metadata changes.
$(INSTALLED): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(PY) -m zoo.demo

# One worker per core; each test file stays on one worker, so its trained fixtures are built
# once, and files go out in tests/conftest.py's order, the slowest first (xdist's default
# reorders them by test count; --no-loadscope-reorder needs pytest-xdist 3.8). (Not --dist
# loadgroup: pytest-xdist 3.8 cannot tag groups under pytest 9.)
test: $(INSTALLED) lint
	$(PY) -m pytest -n auto --dist loadfile --no-loadscope-reorder

# The learning tests again under three other seeds (weights, batch order, dropout): each must
# pass; the run ends with where each model first met its bar. Not part of `make test`.
test-seeds: $(INSTALLED)
	status=0; for seed in 1 2 3; do \
		$(PY) -m pytest -n auto --dist loadfile --no-loadscope-reorder -m learning \
			--learning-seed=$$seed || status=1; \
	done; exit $$status

# Runs every notebook in full, top to bottom, and keeps its outputs in place: the committed
# notebooks carry these (tests/test_notebooks.py checks it; notebooks/README.md says how long
# each took).
notebooks: $(INSTALLED)
	for notebook in notebooks/*.ipynb; do \
		env -u ZOO_QUICK PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
			$(VENV)/bin/jupyter execute --inplace --timeout=-1 $$notebook || exit 1; \
	done

lint: $(INSTALLED)
	$(PY) -m ruff check $(SOURCES)
	$(PY) -m ruff format --check $(SOURCES)

format: $(INSTALLED)
	$(PY) -m ruff format $(SOURCES)
	$(PY) -m ruff check --fix $(SOURCES)
