# The two commands of the README: `make run` and `make test`. Everything else is set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Tests run against the local PostgreSQL and Redis unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

# Where the embedded default keeps its SQLite files (the same default as the settings).
VAR_DIR = $${MLPROJECTS_VAR_DIR:-var}

.PHONY: run test install

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

test: install
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)}" \
	$(BIN)/pytest $(PYTEST_ARGS)
