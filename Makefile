# Two commands on a fresh machine (Python 3.11+ and make):
#   make book                         build the book on the bundled data
#   make book PARAMS=params/full.yml  build with another parameter file
#   make test                         run the whole test suite (includes a -W book build)
#   make pdf                          the whole book as one PDF (_build/pdf/book.pdf)
#   make publish                      the edition: site + PDF at publication settings (params/full.yml)
#   make lock                         re-resolve both lock files from scratch (after editing pyproject.toml)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PARAMS ?= params/default.yml
STAMP  := $(VENV)/.installed
# The resolver behind `make lock` (a tool, not a dependency of the book).
UV_VERSION := 0.13.8
# The lowest Python the project supports; the locks are resolved for it and every later version.
LOCK_PYTHON := 3.11

.PHONY: book test env clean lock bench pdf publish

book: $(STAMP)
	$(BIN)/python -m analysis build --params $(PARAMS)

test: $(STAMP)
	$(BIN)/python -m pytest

# The PDF's dates come from the last commit (fixed without git), so rebuilds give the same bytes.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 1767225600)

# The whole book as one PDF, from the site last built (built first when there is none, or it changed).
pdf: $(STAMP)
	$(BIN)/python -m analysis pdf --params $(PARAMS)

# The edition readers get: publication settings, the site linking the PDF, and the PDF.
publish: $(STAMP)
	$(BIN)/python -m analysis publish --params params/full.yml

env: $(STAMP)

# Reinstall only when a lock file (or the package metadata) changed. The test lock is the
# runtime lock plus what the tests need (the `test` extra); every line carries its hashes.
$(STAMP): requirements.lock requirements-test.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

# Re-pin after changing dependency ranges in pyproject.toml: a fresh resolution (--upgrade
# ignores the old pins) for Python $(LOCK_PYTHON) and later (--universal), with hashes.
LOCK_FLAGS = --universal --python-version $(LOCK_PYTHON) --generate-hashes --upgrade --quiet --no-header
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock.tmp
	$(BIN)/uv pip compile pyproject.toml --extra test $(LOCK_FLAGS) -c requirements.lock.tmp -o requirements-test.lock.tmp
	for f in requirements.lock requirements-test.lock; do \
	  { echo "# $$f: made by \`make lock\` (uv $(UV_VERSION), resolved for Python >=$(LOCK_PYTHON), universal) with" ; \
	    echo "# $$($(BIN)/python -V) on $$(date -u +%Y-%m-%d). Do not edit: change pyproject.toml and run \`make lock\`." ; \
	    sed 's/requirements.lock.tmp/requirements.lock/' $$f.tmp ; } > $$f && rm $$f.tmp ; \
	done

bench: $(STAMP)
	$(BIN)/python -m analysis bench build
	$(BIN)/python -m analysis bench text

clean:
	rm -rf _build
