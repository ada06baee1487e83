# Newcomer commands: `make run` (demo on SQLite, tasks in-process) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint bench messages clean prod

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed messages

messages: $(VENV)/.installed
	$(BIN)/python manage.py compile_translations

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py create_demo_pki
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)/  (demo accounts: see README.md)"
	OTP_REQUIRED=$${OTP_REQUIRED:-false} $(BIN)/python manage.py runserver --insecure $(HOST):$(PORT)

# Uses PostgreSQL and Redis when they answer on 127.0.0.1 (or DATABASE_URL / CELERY_BROKER_URL are set);
# otherwise SQLite, and the tests that need those services are skipped with the reason printed.
# The suite runs on TEST_WORKERS processes (pytest-xdist); the multi-process tests (marker topology: they start
# gunicorn, Celery workers and beat, and mostly wait for them), the permission crawl and the role days in the browser
# (marker beside) run in a second process beside it, and its output follows the suite's.
TEST_WORKERS ?= 2
# Compiled modules are kept under var/pycache even where PYTHONDONTWRITEBYTECODE is set: every test process (and the
# servers, workers and `manage.py check` runs the tests start) would otherwise compile the project's modules and
# rewrite the test modules' assertions again, ~7 s of CPU per pytest process.
test: export PYTHONDONTWRITEBYTECODE =
test: export PYTHONPYCACHEPREFIX = $(CURDIR)/var/pycache
test: setup
	@eval "$$($(BIN)/python scripts/detect_services.py)"; \
	echo "DATABASE_URL=$${DATABASE_URL:-sqlite (embedded)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-none}"; \
	mkdir -p var; \
	case "$${DATABASE_URL:-}" in postgres*) template=$$($(BIN)/python scripts/test_template_db.py) || exit 1; \
		export EOFFICE_TEST_TEMPLATE=$$template;; esac; \
	$(BIN)/python -m pytest -m "topology or beside" $(PYTEST_ARGS) > var/topology-test.log 2>&1 & topology=$$!; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not topology and not beside" $(PYTEST_ARGS); suite=$$?; \
	wait $$topology; topo=$$?; [ $$topo -eq 5 ] && topo=0; \
	echo "----- the production topology test, run beside the suite (var/topology-test.log) -----"; \
	cat var/topology-test.log; \
	[ $$suite -eq 0 ] && [ $$topo -eq 0 ]

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/registry.py

clean:
	rm -rf $(VENV) var
