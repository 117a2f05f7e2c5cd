# Everything a brand-new machine needs, from Python 3.11, pip, make and git alone.
#   make run      migrate, then the whole embedded stack (API, worker, Temporal dev server, SMTP sink)
#   make test     lint, type-check, then the test suite (what CI runs, via .ci/run; installs
#                 Debian's chromium, dovecot, nodejs, npm and fonts-dejavu-core once, for the
#                 browser, IMAP, GraphQL-over-HTTP audit and visiting-card tests)
#   make lint     ruff check, ruff format --check, mypy
#   make schema   regenerate schema.graphql from the code
#   make bench    the benchmark: GraphQL vs hand SQL, req/s, writes, scale (tens of minutes)
#   make fuzz     generated queries and mutations against the API as each role (minutes)
#   make clean    remove the tool and project venvs and caches (data/ is kept)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
VENV := .venv
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
# Stamp of the last `uv sync`: redone whenever the lockfile or the project metadata changes.
SYNCED := $(VENV)/.synced

# Never let uv fetch an interpreter: the machine's Python 3.11 is the one to use.
export UV_PYTHON_DOWNLOADS := never

.PHONY: help env browser imap-server graphql-http-audit card-fonts run test lint schema bench fuzz clean

help:
	@sed -n 's/^#   //p' Makefile

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(SYNCED): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-extras
	@touch $@

env: $(SYNCED)

# Debian packages the tests need, installed once with apt-get (as root, or through sudo):
# chromium drives the pages people outside the API see (unsubscribe) in a real headless
# browser; dovecot is the real IMAP server connected mailboxes are read from; Node runs
# graphql-http's audit of GraphQL over HTTP (the npm package pinned in tests/graphql_http_audit);
# the DejaVu fonts draw the visiting cards the OCR tests read (tests/fixtures/cards.py).
CHROMIUM := /usr/bin/chromium
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
DOVECOT := /usr/sbin/dovecot
NPM := /usr/bin/npm
AUDIT_DIR := tests/graphql_http_audit
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) chromium
$(DOVECOT):
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) dovecot-imapd
$(DEJAVU):
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) fonts-dejavu-core

$(NPM):
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) nodejs npm
# npm ci (from the registry, at install time only) writes node_modules/.package-lock.json.
$(AUDIT_DIR)/node_modules/.package-lock.json: $(AUDIT_DIR)/package-lock.json | $(NPM)
	cd $(AUDIT_DIR) && $(NPM) ci --no-audit --no-fund --loglevel=error

browser: $(CHROMIUM)
imap-server: $(DOVECOT)
card-fonts: $(DEJAVU)
graphql-http-audit: $(AUDIT_DIR)/node_modules/.package-lock.json

run: env
	$(BIN)/crm migrate
	$(BIN)/crm dev

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Test processes (pytest-xdist): each starts its own PostgreSQL and Temporal servers.
TEST_WORKERS ?= 3
test: lint browser imap-server graphql-http-audit card-fonts
	$(BIN)/pytest -n $(TEST_WORKERS)

schema: env
	$(BIN)/crm export-schema > schema.graphql.new || { rm -f schema.graphql.new; exit 1; }
	mv schema.graphql.new schema.graphql

# Not part of `make test`: it loads 100,000 contacts per database, a million more on PostgreSQL
# (the keyset page), and starts 10,000 flow runs and 1,000 subscribers: tens of minutes.
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--database sqlite --contacts 10000".
# The dashboards at scale (1,000,000 contacts, 200,000 deals, 100,000 tickets on PostgreSQL):
# make bench BENCH_ARGS="dashboards" (or "dashboards --contacts 100000 --deals 20000 ...").
BENCH_ARGS ?=
bench: env
	$(BIN)/python -m bench $(BENCH_ARGS)

# Not part of `make test` (which sends 4 generated documents per caller and database): the same
# property with FUZZ_EXAMPLES documents per caller and database (400: some minutes).
FUZZ_EXAMPLES ?= 400
fuzz: env
	CRM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -n 2 -p no:randomly tests/e2e/test_fuzzing.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info schema.graphql.new
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
