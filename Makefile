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
	$(BIN)/python manage.py runserver --insecure $(HOST):$(PORT)

# Uses PostgreSQL and Redis when they answer on 127.0.0.1 (or DATABASE_URL / CELERY_BROKER_URL are set);
# otherwise SQLite, and the tests that need those services are skipped with the reason printed.
test: setup
	@eval "$$($(BIN)/python scripts/detect_services.py)"; \
	echo "DATABASE_URL=$${DATABASE_URL:-sqlite (embedded)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-none}"; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The production topology on this host (Procfile: gunicorn, one Celery worker per queue group, beat) with honcho,
# on PostgreSQL and Redis, environment from .env (docs/deployment.md). Refuses without .env or with development keys.
prod: setup
	@test -f .env || { echo "make prod: no .env file. Create it from the example and fill it in:"; \
		echo "    cp .env.example .env    (every variable is explained there; see docs/deployment.md)"; exit 1; }
	@$(BIN)/honcho run sh -c 'case "$$DATABASE_URL" in postgres*) ;; *) echo "make prod: set DATABASE_URL=postgres://... in .env"; exit 1;; esac; \
		case "$$CELERY_BROKER_URL" in redis*) ;; *) echo "make prod: set CELERY_BROKER_URL=redis://... in .env"; exit 1;; esac'
	$(BIN)/honcho run $(BIN)/python manage.py check --deploy --fail-level ERROR
	$(BIN)/honcho run $(BIN)/python manage.py migrate --noinput
	$(BIN)/honcho run $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/registry.py

clean:
	rm -rf $(VENV) var
