# The two commands: `make run` and `make test` (see README.md). Only Python 3.11+ and make needed.
#
# Packages install from requirements.lock: every one pinned, with its hashes from PyPI, at the
# version the suite passed with, so a fresh clone gets what CI tested (pyproject.toml keeps the
# ranges the code supports; the project itself goes in with --no-deps). To change a dependency:
# edit pyproject.toml, install and try the new versions in .venv
# (`.venv/bin/pip install -e '.[dev]' 'name==version'`, then `make test`), then `make lock`,
# which pins what .venv now holds, resolving from PyPI alone (no local pip configuration,
# index or wheel directory), and commit both files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCKER := $(VENV)-lock

.PHONY: run test lint format bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

lock: | $(BIN)/python
	$(BIN)/python -m pip freeze --exclude-editable > $(VENV)/installed.txt
	test -x $(LOCKER)/bin/pip-compile || \
		($(PYTHON) -m venv $(LOCKER) && $(LOCKER)/bin/pip install --quiet pip-tools)
	env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
		PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
		$(LOCKER)/bin/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links \
		-c $(VENV)/installed.txt -o requirements.lock pyproject.toml

run: $(STAMP)
	$(BIN)/python -m app serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Tests run in parallel worker processes (pytest-xdist), each with its own server and
# databases; many tests wait on timers, sockets and subprocesses, so this halves the time.
test: $(STAMP) lint
	$(BIN)/python -m pytest --numprocesses=auto --maxprocesses=4 --dist=loadgroup

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/graphql_read.py

clean:
	rm -rf $(VENV) $(LOCKER) .pytest_cache .ruff_cache .mypy_cache
