# BarberPro — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
BP     := $(VENV)/bin/barberpro
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test install lint typecheck importlint unit integration bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	$(BP) db upgrade
	$(BP) demo --if-empty
	$(BP) serve

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: install
	$(VENV)/bin/mypy

importlint: install
	$(VENV)/bin/lint-imports

unit: install
	$(VENV)/bin/pytest tests/unit

test: lint typecheck importlint
	$(VENV)/bin/pytest

bench: install
	@echo "See docs/benchmarks.md for each benchmark and its command."

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
