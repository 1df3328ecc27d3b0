# Two commands: `make run` (embedded default, no other service) and `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml changes.
# The first interpreter that really is Python >= 3.13 (a pyenv shim may exist and fail).
PYTHON ?= $(shell for c in python3.13 /root/.pyenv/versions/3.13*/bin/python3 /usr/local/bin/python3.13 /usr/bin/python3.13 python3; do \
	  "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1 && { echo "$$c"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# This machine only; HOST=0.0.0.0 serves every interface (what the container image does).
HOST ?= 127.0.0.1
# Test files run in parallel, one per core (a file's tests stay together: module fixtures).
PYTEST_ARGS ?= -n auto --dist loadfile --durations=25

.PHONY: run test lint install install-test system-packages clean bench

$(PY):
	@test -n "$(PYTHON)" || { echo "Python 3.13 or newer is needed; pass PYTHON=/path/to/python3.13"; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	@echo "==> installing taskwire (with what examples/ needs)"
	$(PY) -m pip install --quiet -e '.[examples]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	@echo "==> installing taskwire with test extras"
	$(PY) -m pip install --quiet -e '.[examples,test]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	TASKWIRE_HOST=$(HOST) PORT=$(PORT) $(PY) -m app serve

# The suite starts these itself (redis-server, nginx in front of two instances, Chromium
# for the browser tests, Node for the OpenID Provider of tests/oidc/); install the Debian
# packages that are missing. Browsers cannot be downloaded by Playwright here, so Debian's
# Chromium it is.
SYSTEM_PACKAGES := redis-server:redis-server nginx:nginx-light chromium:chromium file:file node:nodejs npm:npm

system-packages:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: install-test system-packages lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Lint and format rules and mypy --strict on app/ (pyproject.toml's [tool.ruff] and [tool.mypy]).
# `make test` runs these first (seconds): a lint or type error fails it like a test would.
lint: install-test
	@echo "==> ruff check, ruff format --check, mypy --strict on app/"
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: install-test
	$(PY) bench/rest.py

clean:
	rm -rf $(VENV) .pytest_cache
