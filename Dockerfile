# One image for web, worker and beat (docker-compose.yml picks the command).

# --- build: compile the dependencies (psycopg2 builds against libpq) into a venv ---------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
# Dependencies first, from pyproject.toml alone, so a code change reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt

# --- browser libraries: the plotly.js bundles of package.json, from the lockfile --------
FROM node:20-slim AS browser
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci

# --- runtime --------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    MLPROJECTS_VAR_DIR=/app/var \
    WEB_CONCURRENCY=3

RUN apt-get update \
    && apt-get install --yes --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system app \
    && useradd --system --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY . .
# collectstatic takes the bundles' dist files from here; pages read which style ids they need.
COPY --from=browser /app/node_modules ./node_modules
# The project itself, editable so BASE_DIR (templates/, static/) stays /app.
RUN pip install --no-deps --editable . \
    && mkdir -p /app/var/artifacts \
    && DJANGO_DEBUG=false \
       DJANGO_SECRET_KEY=build-only-collectstatic-not-a-secret \
       DJANGO_ALLOWED_HOSTS=localhost \
       python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R app:app /app/var

USER app

EXPOSE 8000
# gunicorn reads WEB_CONCURRENCY for its number of workers. The long timeout leaves time
# for MLflow artifact uploads, which stream large files through a sync worker.
CMD ["gunicorn", "mlprojects.wsgi:application", "--bind", "0.0.0.0:8000", "--timeout", "300", "--access-logfile", "-"]
