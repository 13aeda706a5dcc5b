# Two commands on a fresh machine: `make book` and `make test`. Both create .venv (plain venv + pip)
# the first time and reuse it afterwards; every version is pinned in pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: book test install clean-book assignments results

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall only when the pins change. The `tfds` extra brings tensorflow-datasets without
# TensorFlow, so the TFDS field mappings are tested on `tfds.testing.mock_data`.
$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[book,test,tfds]"
	touch $@

install: $(STAMP)

# Executes every notebook of _toc.yml with its defaults (the `book` profile) and renders HTML into
# _build/html. Jupyter Book's execution cache (_build/.jupyter_cache) skips unchanged notebooks.
# A notebook that fails to execute stops the build (nb_execution_raise_on_error in _config.yml).
# FLAN_NB_BOOK_BUILD=1: only the book build writes the tracked figures/ (flan_nb.plotting).
book: $(STAMP)
	FLAN_NB_BOOK_BUILD=1 PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-book build .
	@test -f _build/html/index.html && echo "Book: $(CURDIR)/_build/html/index.html"

# The whole suite: unit tests, then notebook smoke tests. pytest exits 5 when no test ran; that
# is a failure here like any other non-zero status.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Student notebooks (no solutions), solved notebooks and hidden tests of every chapter, from the
# master notebooks, into assignments/ (git-ignored). See book/for_teachers.md.
assignments: $(STAMP)
	$(BIN)/python -m flan_nb assign --out assignments

# Regenerates every published results file (results/<plan>.json) from its plan: runs what is
# missing (resumable), evaluates and rewrites the file with its provenance. Commit the result.
# The book plan takes about 45 minutes on 2 cores (10 held-out clusters); see the README.
results: $(STAMP)
	@for f in results/*.json; do \
	  plan=notebooks/plans/$$(basename $$f .json).yaml; \
	  echo "flan-nb batch $$plan --publish"; \
	  $(BIN)/python -m flan_nb batch $$plan --publish --quiet || exit 1; \
	done

clean-book:
	rm -rf _build
