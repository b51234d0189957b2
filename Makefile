# djinsight developer commands. Each target installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TEST_DATABASES ?= sqlite postgresql mysql
export PYTHONPATH := $(CURDIR):$(CURDIR)/src
export DJINSIGHT_TEST_POSTGRES ?= 127.0.0.1:5432
export DJINSIGHT_TEST_MYSQL ?= 127.0.0.1:3306
export DJINSIGHT_TEST_REDIS ?= redis://127.0.0.1:6379/15

.PHONY: help venv system-deps test test-django6 demo screenshots bench lint clean

help:
	@echo "make demo         run the demo site (embedded Redis when REDIS_URL is unset)"
	@echo "make test         run the tests on $(TEST_DATABASES)"
	@echo "make bench        run the benchmarks, printing ratios to a baseline"
	@echo "make screenshots  capture the demo's screens to docs/images/"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,wagtail,useragent,bench]' -r example/requirements.txt
	touch $@

venv: $(VENV)/.installed

# Debian packages the tests and benchmarks use (Chromium for browser tests,
# the MariaDB client headers for mysqlclient, wrk for load). Root only.
system-deps:
	@sh scripts/system-deps.sh

test: system-deps venv
	@TEST_DATABASES="$(TEST_DATABASES)" sh scripts/run-tests.sh $(PY) $(PYTEST_ARGS)

# Django 6 needs Python 3.12+: a second virtualenv, SQLite, everything but browser/demo/crash tests.
PY312 ?= $(shell sh scripts/find-python312.sh)
test-django6: system-deps
	@if [ -z "$(PY312)" ]; then echo "no Python 3.12+ found: skipping the Django 6 run"; exit 0; fi; \
	set -e; [ -f .venv-dj6/.installed ] || { $(PY312) -m venv .venv-dj6; .venv-dj6/bin/pip install -q --upgrade pip; \
	  .venv-dj6/bin/pip install -q 'django>=6,<7' -e '.[test,wagtail,useragent]'; touch .venv-dj6/.installed; }; \
	echo "=== tests on Django $$(.venv-dj6/bin/python -m django --version), $$(.venv-dj6/bin/python --version) ==="; \
	DJINSIGHT_TEST_DB=sqlite .venv-dj6/bin/python -m pytest $(PYTEST_ARGS) -m "not browser and not demo and not slow and not celery"

demo: venv
	$(PY) example/run_demo.py

screenshots: system-deps venv
	$(PY) example/screenshots.py

bench: system-deps venv
	$(PY) bench/run.py $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check src tests

clean:
	rm -rf $(VENV) .venv-dj6 .demo .bench
