# The two commands of the README are `make run` and `make test`; `make lint` and `make check`
# are the rest of what CI runs (`.ci/run` calls these targets, it does not restate them).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Tests run against the local PostgreSQL and Redis unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

# Where the embedded default keeps its SQLite files (the same default as the settings).
VAR_DIR = $${MLPROJECTS_VAR_DIR:-var}

.PHONY: run test lint check install

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Web, worker and beat under honcho. `-e /dev/null`: a `.env` written for docker compose
# must not turn the local run into a half-configured production one.
run: install
	mkdir -p "$(VAR_DIR)"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo_data --if-empty
	@echo
	@echo "==> Open http://127.0.0.1:8000/ (dashboard) or http://127.0.0.1:8000/admin/ (admin)"
	@echo "    and log in as a demo user above"
	@echo "    (credentials kept in $(VAR_DIR)/demo-credentials.txt)."
	@echo "==> Starting web on port 8000, worker and beat; Ctrl-C stops them all."
	@echo
	$(BIN)/honcho start -e /dev/null -f Procfile.dev

# Against the same database and broker as the tests: `makemigrations --check` reads the
# applied migrations of the database it is given.
WITH_SERVICES = DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)}"

test: install
	$(WITH_SERVICES) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Django's system checks, no model change without its migration, and the deployment checks
# with production settings and a throwaway secret (nothing is stored or served).
check: install
	$(WITH_SERVICES) $(BIN)/python manage.py check
	$(WITH_SERVICES) $(BIN)/python manage.py makemigrations --check --dry-run
	$(WITH_SERVICES) DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=example.org \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	$(BIN)/python manage.py check --deploy --fail-level WARNING
