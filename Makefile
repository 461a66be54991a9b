# The two set-up commands (see README): `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen
DEMO_MEMBERS ?= 10000
DEMO_SEED ?= 42
DEMO_DB := var/caseboard.sqlite3
# IANA's port for HL7 over MLLP.
ADT_PORT ?= 2575
PG_URL ?= postgres://postgres@127.0.0.1:5432/caseboard
HTMX_VERSION ?= 2.0.11

.PHONY: install system-packages demo serve test test-sqlite test-postgres lint bench vendor-htmx

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || command -v uv >/dev/null || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --all-extras

# Debian's chromium for the browser tests (never a browser download of Playwright's own), a
# Java runtime for the Spark tests and Pango for the PDF summaries (weasyprint).
system-packages:
	@missing=""; [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	ldconfig -p | grep -q "libpangoft2-1.0.so.0" || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Install with apt-get:$$missing (needed by the browser and Spark tests)"; exit 1; fi; \
	fi

demo: install
	mkdir -p var
	rm -f $(DEMO_DB)
	DATABASE_URL= $(RUN) caseboard migrate --verbosity 0
	DATABASE_URL= $(RUN) caseboard demo-data --members $(DEMO_MEMBERS) --seed $(DEMO_SEED) --out var/demo/input
	DATABASE_URL= $(RUN) caseboard analytics run --input var/demo/input --out var/demo/marts
	DATABASE_URL= $(RUN) caseboard analytics publish --from var/demo/marts
	DATABASE_URL= $(RUN) caseboard demo-care --seed $(DEMO_SEED)
	DATABASE_URL= $(RUN) caseboard care_reminders --schedule
	DATABASE_URL= $(RUN) caseboard demo-adt-feed --out var/demo/adt-feed.hl7 --seed $(DEMO_SEED)
	@DATABASE_URL= $(RUN) caseboard demo-logins
	@echo "Serving caseboard on http://127.0.0.1:8000 (Ctrl-C stops it); background work runs"
	@echo "in the task worker beside it, and e-mails print here (console e-mail backend)."
	@echo "The hospital ADT listener takes MLLP on 127.0.0.1:$(ADT_PORT); the demo feed is sent to it."
	DATABASE_URL= $(RUN) caseboard db_worker & worker=$$!; \
	  DATABASE_URL= $(RUN) caseboard adt listen --host 127.0.0.1 --port $(ADT_PORT) & listener=$$!; \
	  trap 'kill $$worker $$listener 2>/dev/null' EXIT INT TERM; \
	  ( for _ in $$(seq 1 120); do (echo > /dev/tcp/127.0.0.1/$(ADT_PORT)) 2>/dev/null && break; sleep 0.5; done; \
	    DATABASE_URL= $(RUN) caseboard adt send var/demo/adt-feed.hl7 --port $(ADT_PORT) | tail -n 1 ) & \
	  DATABASE_URL= $(RUN) caseboard runserver 127.0.0.1:8000

test: install system-packages lint test-sqlite test-postgres

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

test-sqlite:
	DATABASE_URL= $(RUN) pytest -q

# PostgreSQL when it is reachable (CI starts it); the suite creates and drops its own database.
test-postgres:
	@if $(RUN) python -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	  DATABASE_URL=$(PG_URL) $(RUN) pytest -q; \
	else echo "PostgreSQL is not reachable at 127.0.0.1:5432: skipped the PostgreSQL run"; fi

bench: install
	$(RUN) python bench/bench_demo_generation.py --members 100000
	$(RUN) python bench/bench_registry.py --enrollments 2000
	$(RUN) python bench/bench_mllp.py --connections 8 --messages 1500

vendor-htmx:
	cd $$(mktemp -d) && npm pack --silent htmx.org@$(HTMX_VERSION) && tar xzf htmx.org-$(HTMX_VERSION).tgz && \
	  cp package/dist/htmx.min.js package/LICENSE $(CURDIR)/src/caseboard/web/static/vendor/htmx/
	echo "htmx.org $(HTMX_VERSION), from its npm package (make vendor-htmx refreshes it)" > src/caseboard/web/static/vendor/htmx/VERSION
