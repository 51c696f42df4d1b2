# The two commands of the README are `make run` and `make test`; `make lint` and `make check`
# are the rest of what CI runs (`.ci/run` calls these targets, it does not restate them), and
# `make dev` is for working on the code.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Tests run against the local PostgreSQL and Redis unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

# Where the embedded default keeps its files (the same default as the settings), and the
# port web listens on, on 127.0.0.1 only.
VAR_DIR := $(abspath $(or $(MLPROJECTS_VAR_DIR),var))
MLPROJECTS_PORT ?= 8000
URL := http://127.0.0.1:$(MLPROJECTS_PORT)/
STATIC_MANIFEST := $(VAR_DIR)/static/staticfiles.json

.PHONY: run dev test lint check install

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The browser libraries the pages serve (plotly.js bundles): package.json pins them, the
# lockfile holds their checksums, and `npm ci` installs exactly that, again only when the
# lockfile changes. dashboard/plotly.py collects their dist files into the static files.
node_modules/.installed: package.json package-lock.json .npmrc
	npm ci
	touch $@

install: $(BIN)/.installed node_modules/.installed

run dev: export MLPROJECTS_VAR_DIR := $(VAR_DIR)
run dev: export MLPROJECTS_PORT := $(MLPROJECTS_PORT)
# `make run` serves as production does, over plain HTTP on 127.0.0.1: debug off, gunicorn,
# static files by WhiteNoise from the collected manifest, a secret key made once.
run: export DJANGO_DEBUG := false
run: export MLPROJECTS_LOCAL_HTTP := true
run: export DJANGO_SECRET_KEY_FILE := $(VAR_DIR)/secret-key

# Migrations and, on the first start, the demo portfolio; then web, worker and beat under
# supervisord, which restarts any of them that dies.
define start
	mkdir -p "$(VAR_DIR)"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data --if-empty --force
	@echo
	@echo "==> Open $(URL) (dashboard) or $(URL)admin/ (admin)"
	@echo "    and log in as a demo user above"
	@echo "    (credentials kept in $(VAR_DIR)/demo-credentials.txt)."
	@echo "==> Starting web on port $(MLPROJECTS_PORT), worker and beat; Ctrl-C stops them all."
	@echo
	$(BIN)/supervisord --configuration etc/supervisord/$(1).conf
endef

run: install $(VAR_DIR)/secret-key $(STATIC_MANIFEST)
	$(call start,run)

$(VAR_DIR)/secret-key:
	mkdir -p "$(VAR_DIR)"
	$(BIN)/python -m mlprojects.secret_key "$@"

# The static files, hashed and compressed for WhiteNoise (some 20 s), collected again only
# when a package or a file of static/ is newer than the last collection's manifest.
$(STATIC_MANIFEST): $(BIN)/.installed node_modules/.installed $(shell find static -type f) \
		mlprojects/settings.py dashboard/plotly.py | $(VAR_DIR)/secret-key
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	touch "$@"

# For working on the code: Django's development server (auto-reload, debug pages).
dev: install
	$(call start,dev)

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
