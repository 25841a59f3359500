# Two commands on a fresh machine (Python 3.11+ and make):
#   make book                         build the book on the bundled data
#   make book PARAMS=params/full.yml  build with another parameter file
#   make test                         run the whole test suite (includes a -W book build)
#   make pdf                          the whole book as one PDF (_build/pdf/book.pdf)
#   make publish                      the edition: site + PDF at publication settings (params/full.yml)
#   make lock                         re-resolve the lock files from scratch (after editing pyproject.toml)
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

# Reinstall only when a lock file (or the package metadata, or the installer) changed. The test
# lock is the runtime lock plus what the tests need (the `test` extra); every line carries its
# hashes. scripts/install_locked.py never resolves: the build backend from requirements-build.lock,
# then exactly the lock's lines (--no-deps), the package itself, then `pip check`.
$(STAMP): requirements.lock requirements-test.lock requirements-build.lock pyproject.toml scripts/install_locked.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/install_locked.py --quiet requirements-test.lock
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

# Re-pin after changing dependency ranges in pyproject.toml: a fresh resolution (--upgrade
# ignores the old pins) for Python $(LOCK_PYTHON) and later (--universal), with hashes.
# requirements-build.lock pins what builds the locked sdists and the package: pyproject.toml's
# [build-system] requires plus wheel, at the runtime lock's versions (-c).
LOCK_FLAGS = --universal --python-version $(LOCK_PYTHON) --generate-hashes --upgrade --quiet --no-header
BUILD_REQUIRES = $(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], "wheel", sep="\n")'
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock.tmp
	$(BIN)/uv pip compile pyproject.toml --extra test $(LOCK_FLAGS) -c requirements.lock.tmp -o requirements-test.lock.tmp
	$(BUILD_REQUIRES) | $(BIN)/uv pip compile - $(LOCK_FLAGS) -c requirements.lock.tmp -o requirements-build.lock.tmp
	for f in requirements.lock requirements-test.lock requirements-build.lock; do \
	  { echo "# $$f: made by \`make lock\` (uv $(UV_VERSION), resolved for Python >=$(LOCK_PYTHON), universal) with" ; \
	    echo "# $$($(BIN)/python -V) on $$(date -u +%Y-%m-%d). Do not edit: change pyproject.toml and run \`make lock\`." ; \
	    sed 's/requirements.lock.tmp/requirements.lock/' $$f.tmp ; } > $$f && rm $$f.tmp ; \
	done

bench: $(STAMP)
	$(BIN)/python -m analysis bench build
	$(BIN)/python -m analysis bench text

clean:
	rm -rf _build
