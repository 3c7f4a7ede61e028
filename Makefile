# Two commands do everything: `make run` (the course) and `make test` (the whole suite).
# Each creates .venv on first use and re-installs when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader calls `alembic`, and papermill/nbclient start kernels by name: both need the venv first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
OUT ?= out

# Collect the messages marked with _()/ngettext() and merge them into the Russian catalogue
# (new ones arrive empty: tests/i18n/test_catalogue.py fails until they are translated).
messages: venv-test
	$(BIN)/pybabel -q extract -k _ -k N_ -k gettext -k ngettext:1,2 --no-location --omit-header \
	  -o loyalty_lib/i18n/locale/loyalty.pot loyalty_lib
	$(BIN)/pybabel -q update --no-fuzzy-matching -D loyalty -l ru -i loyalty_lib/i18n/locale/loyalty.pot \
	  -d loyalty_lib/i18n/locale

.PHONY: messages test-browser test-floors run test lab lint format bench exercises samples clean venv venv-test browser sandbox

# uv resolves and installs in parallel (about 1 minute instead of pip's 2 on CI's 2 cores); it
# installs the same versions from the same pyproject.toml. pip is the fallback if uv is unavailable.
# --compile-bytecode: these machines set PYTHONDONTWRITEBYTECODE=1 and uv writes no .pyc by
# default, so every kernel recompiled pandas/scipy/matplotlib from source: importing the library
# took 7.4 s instead of 2.3 s, in each of the hundreds of kernels the course and the suite start.
INSTALL = $(BIN)/python -m uv pip install -q --compile-bytecode --python $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv || true
	@$(BIN)/python -m uv --version >/dev/null 2>&1 || echo "uv unavailable: installing with pip"

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(INSTALL) -e . || $(BIN)/python -m pip install -q -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(INSTALL) -e ".[test,spark]" || $(BIN)/python -m pip install -q -e ".[test,spark]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-run
venv-test: $(VENV)/.installed-test

# The course; `make run COURSE_LANG=ru` runs the Russian edition (notebooks/ru/) into out/course-ru.
COURSE_LANG ?= en
run: venv browser sandbox
	$(BIN)/loyalty run --lang $(COURSE_LANG) --out $(OUT)/course$(if $(filter-out en,$(COURSE_LANG)),-$(COURSE_LANG))

test: venv-test browser sandbox
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The browser suite alone (also part of `make test`).
test-browser: venv-test browser
	$(BIN)/python -m pytest -n 2 --dist loadfile tests/browser

# The suite against the lowest versions pyproject.toml allows (uv's lowest-direct resolution),
# in its own .venv-floors: run it after changing a lower bound. Not part of `make test` (a second
# install and suite would double CI's time). PATH: kernels and alembic from .venv-floors.
# Deselected: the stored 00 compared byte for byte, images included; PNG bytes depend on
# matplotlib's version, and the stored notebooks are written with the versions `make test` gets.
FLOORS := .venv-floors
test-floors: browser sandbox
	rm -rf $(FLOORS)
	$(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install -q uv
	$(FLOORS)/bin/python -m uv pip install -q --compile-bytecode --resolution lowest-direct \
	  --python $(FLOORS)/bin/python -e ".[test,spark]"
	$(FLOORS)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	PATH=$(abspath $(FLOORS))/bin:$$PATH $(FLOORS)/bin/python -m pytest -n 2 --dist loadfile \
	  --deselect tests/test_notebooks.py::test_stored_copy_of_00_is_current

# Browser tests and report.pdf need Debian's Chromium, the PDF tests poppler-utils' pdftotext;
# install them when apt is available (CI has apt).
browser:
	@if { [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null 2>&1; } && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and poppler-utils (report.pdf, browser and PDF tests)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null) \
	    || echo "could not install chromium/poppler-utils: browser and PDF tests will be skipped with a reason"; \
	fi

# `loyalty grade` runs every submission's kernel in bubblewrap (and refuses without it); the
# hostile-submission tests need it too. Installed like Chromium when apt is available.
sandbox:
	@if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing bubblewrap for the grading sandbox"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) \
	    || echo "could not install bubblewrap: `loyalty grade` refuses without it (or --no-sandbox)"; \
	fi

lab: venv
	$(BIN)/jupyter lab notebooks

lint: venv-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check loyalty_lib tests bench

format: venv-test
	$(BIN)/ruff format loyalty_lib tests bench
	$(BIN)/ruff check --fix .

samples: venv
	$(BIN)/loyalty samples --out data/samples

exercises: venv
	$(BIN)/loyalty exercises

bench: venv-test
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(FLOORS) $(OUT) .pytest_cache .ruff_cache
