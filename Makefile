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

# nox (noxfile.py) runs the checks and the test matrix, each leg in its own
# virtualenv under .nox/; this one only holds nox and uv.
NOX_VENV ?= .venv-nox
NOX := $(NOX_VENV)/bin/nox

.PHONY: help venv nox system-deps test test-django6 demo screenshots bench lint js clean

help:
	@echo "make demo         run the demo site (own venv, SQLite, embedded Redis when REDIS_URL is unset)"
	@echo "make test         run the test matrix (noxfile.py) on $(TEST_DATABASES)"
	@echo "make lint         ruff check, ruff format --check, mypy and the wheel's contents"
	@echo "make test-django6 one leg: Python 3.13, Django 6.0, Wagtail 8"
	@echo "make js           rebuild static/djinsight/tracker.min.js from tracker.js"
	@echo "make demo-schema  rebuild the demo's prebuilt database after a migration changes"
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

$(NOX_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(NOX_VENV)
	$(NOX_VENV)/bin/pip install -q --upgrade pip
	$(NOX_VENV)/bin/pip install -q --group nox
	touch $@

nox: $(NOX_VENV)/.installed

# Every leg of the matrix (noxfile.py); one leg: make test NOX_SESSIONS="tests(lts)".
NOX_SESSIONS ?= tests
test: system-deps nox
	TEST_DATABASES="$(TEST_DATABASES)" $(NOX) -s "$(NOX_SESSIONS)" -- $(PYTEST_ARGS)

# Django 6 on Python 3.13 with the latest Wagtail (SQLite and PostgreSQL).
test-django6: system-deps nox
	TEST_DATABASES="$(TEST_DATABASES)" $(NOX) -s "tests(latest)" -- $(PYTEST_ARGS)

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

# Rewrite example/demo_site/schema.sql (the demo's prebuilt database) after a migration
# changes: built with the oldest Django and Wagtail supported (noxfile.py demo_schema).
demo-schema: nox
	$(NOX) -s demo_schema

screenshots: system-deps venv
	$(PY) example/screenshots.py

bench: system-deps venv
	$(PY) bench/run.py $(BENCH_ARGS)

lint: nox
	$(NOX) -s lint types

js: nox
	$(NOX) -s js

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(NOX_VENV) .nox .demo .bench
