# Two commands do all set-up on a fresh machine: `make run` (the demo) and `make test` (everything).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test lint install install-dev lock messages screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## The demo: web server, Celery worker, Celery beat, the Seller Central sandbox, the notification
## consumer and its SQS server (moto) in one foreground command (Ctrl-C stops all).
## Amazon's notifications in the demo: the sandbox sends them to moto's SQS (Procfile `sqs`, which
## starts empty each time), and the consumer makes the queue there before it reads it. moto takes
## any AWS key. Production sets its own queue and credentials (README).
run: export AMAZON_SQS_ENDPOINT_URL ?= http://127.0.0.1:5000
run: export AMAZON_NOTIFICATIONS_QUEUE_URL ?= http://127.0.0.1:5000/123456789012/amazon-notifications
run: export AMAZON_NOTIFICATIONS_QUEUE_CREATE ?= true
run: export AWS_ACCESS_KEY_ID ?= demo
run: export AWS_SECRET_ACCESS_KEY ?= demo
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_setup
	@echo ""
	@echo "  Amazon Sales Channel: http://127.0.0.1:8000/   (login above; Django admin at /admin/)"
	@echo "  Seller Central sandbox: http://127.0.0.1:8000/sandbox/ (its SP-API on port 8001)"
	@echo "  Amazon's notifications: $(AMAZON_NOTIFICATIONS_QUEUE_URL)"
	@echo ""
	$(BIN)/honcho start -f Procfile

## Everything: lint, Django's checks, migrations up to date, the whole test suite in parallel
## (pytest-xdist: a test database and a Redis database per worker, conftest.py). Two workers per
## core, as many tests wait on a sandbox, a worker process or a rate limit rather than compute;
## at most 8, for Redis's 16 databases and PostgreSQL's connections; TEST_WORKERS=0 runs it in
## one process.
TEST_WORKERS ?= $(shell n=$$(( $$(nproc) * 2 )); [ $$n -gt 8 ] && n=8; echo $$n)
test: install-dev lint
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 8

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Re-pin the dependencies after editing requirements*.in.
lock: install-dev
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

## Translations: extract after changing strings, translate locale/*/LC_MESSAGES/django.po, and
## run it again to compile (needs GNU gettext: apt-get install gettext).
messages: install-dev
	$(BIN)/python manage.py makemessages -l fr -l de -l it -l nl --ignore=.venv --ignore=var --ignore=artifacts --ignore=bench --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

## The README's screenshots (docs/screenshots/, desktop 1440 px and phone 390 px) from the demo's
## data in a throwaway database; needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
screenshots: install-dev
	$(BIN)/python bench/screenshots.py --output docs/screenshots

clean:
	rm -rf var/celery var/static artifacts .pytest_cache control
