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
	@echo "make demo         run the demo site (own venv, SQLite, embedded Redis when REDIS_URL is unset)"
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

# The demo's own environment: djinsight with the extras the demo uses and
# example/requirements.txt (all wheels on Linux x86-64): no system package, no test or
# bench extras (mysqlclient needs the MariaDB headers). pip's log of the
# install is kept in $(DEMO_VENV)/pip-install.log. 'pip>=21.3' (editable
# installs of a pyproject-only package) costs nothing when pip is already newer.
DEMO_VENV ?= .venv-demo
DEMO_EXTRAS := wagtail,useragent
DEMO_PY := $(DEMO_VENV)/bin/python
.PHONY: demo-venv demo-schema

$(DEMO_VENV)/.installed: pyproject.toml example/requirements.txt
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_PY) -m pip install -q 'pip>=21.3'
	$(DEMO_PY) -m pip install -q --prefer-binary --log $(DEMO_VENV)/pip-install.log \
	  -e '.[$(DEMO_EXTRAS)]' -r example/requirements.txt
	touch $@

demo-venv: $(DEMO_VENV)/.installed

demo: demo-venv
	$(DEMO_PY) example/run_demo.py $(DEMO_ARGS)

# Rewrite example/demo_site/schema.sql (the demo's prebuilt database) after a migration changes.
demo-schema: demo-venv
	$(DEMO_PY) example/manage.py demo_schema

screenshots: system-deps venv
	$(PY) example/screenshots.py

bench: system-deps venv
	$(PY) bench/run.py $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check src tests

clean:
	rm -rf $(VENV) $(DEMO_VENV) .venv-dj6 .demo .bench
