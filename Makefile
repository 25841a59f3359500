# Two commands on a fresh machine (Python 3.11+ and make):
#   make book                         build the book on the bundled data
#   make book PARAMS=params/full.yml  build with another parameter file
#   make test                         run the whole test suite (includes a -W book build)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PARAMS ?= params/default.yml
STAMP  := $(VENV)/.installed

.PHONY: book test env clean lock bench

book: $(STAMP)
	$(BIN)/python -m analysis build --params $(PARAMS)

test: $(STAMP)
	$(BIN)/python -m pytest

env: $(STAMP)

# Reinstall only when the lock file (or the package metadata) changed.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

# Re-pin after changing dependency ranges in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --upgrade -e .
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^analysis' > requirements.lock

bench: $(STAMP)
	$(BIN)/python -m analysis bench build
	$(BIN)/python -m analysis bench text

clean:
	rm -rf _build
