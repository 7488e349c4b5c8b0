# BarberPro — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
BP     := $(VENV)/bin/barberpro
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
APT_GET := $(shell command -v apt-get 2>/dev/null)

.PHONY: run test install lint typecheck importlint pytest browser bench-tools clean

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

# Debian's Chromium for the browser tests (never a browser download).
browser:
	@test -x /usr/bin/chromium || { test -n "$(APT_GET)" && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } || \
		echo "chromium unavailable: browser tests will skip"

# Load generator for the throughput benchmarks.
bench-tools:
	@command -v wrk >/dev/null || { test -n "$(APT_GET)" && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

lint: install
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

typecheck: install
	$(VENV)/bin/mypy

importlint: install
	$(VENV)/bin/lint-imports

pytest: install browser
	$(VENV)/bin/pytest

test: lint typecheck importlint pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
