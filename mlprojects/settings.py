"""Settings, read from the environment.

With nothing set, the app runs on the embedded default: SQLite under ``var/`` and a Celery
broker on a SQLite file, so web, worker and beat start on a fresh machine with no server.
Production sets ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``DJANGO_SECRET_KEY``,
``DJANGO_ALLOWED_HOSTS`` and ``DJANGO_DEBUG=false``; the README lists every variable.
"""

import datetime as dt
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from mlprojects.celery import Queue

# ``X_FILE`` names a file that holds ``X``: how `make run` hands over its generated key.
env = environ.FileAwareEnv()

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime files of the embedded default (SQLite database, broker, static files, artifacts).
VAR_DIR = Path(env.str("MLPROJECTS_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------------
# Debug is on when nothing is set, for `make dev`, the tests and manage.py on a fresh clone;
# production turns it off and must then provide its own secret key and host names.
DEBUG = env.bool("DJANGO_DEBUG", default=True)
# `make run` serves as production does (debug off) on this machine only, over plain HTTP
# on the loopback address: cookies without the Secure flag, no HTTPS redirect, no HSTS,
# local host names by default. Its secret key is generated once under the var dir.
LOCAL_HTTP = not DEBUG and env.bool("MLPROJECTS_LOCAL_HTTP", default=False)
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-local-development-only")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=LOOPBACK_HOSTS)
elif LOCAL_HTTP:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=LOOPBACK_HOSTS)
else:
    # No default: a production process without its secrets refuses to start.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "nested_admin",
    "axes",
    "django_celery_beat",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phases",
    "experiments",
    "registry",
    "monitoring",
    "api",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "api.middleware.ApiBodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mlprojects.urls"
WSGI_APPLICATION = "mlprojects.wsgi.application"
ASGI_APPLICATION = "mlprojects.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# SQLite in WAL mode with immediate transactions lets web, worker and beat share one file
# without "database is locked" errors; PostgreSQL is the production database.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mlprojects.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
        "DATABASE_CONN_HEALTH_CHECKS", default=True
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed sign-ins (the dashboard's and the admin's, both through
# Django's authenticate) and locks out a username, and separately an address, after too
# many. API tokens never pass through here: they are not passwords, and a wrong one is
# throttled with the anonymous API rate instead (api.authentication).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind proxies, the client's address is the one they add to X-Forwarded-For; without
# them that header is the client's own word, so only the connection's address counts.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:portfolio"
LOGOUT_REDIRECT_URL = "login"

# Evidence links typed without a scheme are taken as https (Django 6's default already).
FORMS_URLFIELD_ASSUME_HTTPS = True

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
# WhiteNoise serves compressed, hashed files from the app server: no CDN, no extra server.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The plotly.js bundles come from node_modules/ (package.json, `npm ci`), their dist files
# alone, collected and compressed like the rest.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "dashboard.plotly.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Pages name static files by their hashed names only ({% static %}, and the manifest
# rewrites the references inside CSS and JS), so only those are kept and compressed; source
# maps (read by a browser's developer tools alone) are kept but not compressed. Together
# they take most of `collectstatic`'s time off every start.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- Security ---------------------------------------------------------------------------
# Secure by default when debug is off; a deployment behind a TLS-terminating proxy keeps
# these on and sets DJANGO_SECURE_PROXY_SSL_HEADER. Only `make run` (plain HTTP on the
# loopback address) and debug turn them off.
HTTPS = not DEBUG and not LOCAL_HTTP
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Pages load scripts, styles, images and fonts from this site only, run no inline script
# and cannot be framed. Plotly's own style sheet is served as a file beside its script
# (dashboard.views.plotly_css); the API docs use drf-spectacular's split Swagger view.
# data: images are Swagger UI's icons and the images Plotly draws when saving a chart.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz answers plain HTTP so container healthchecks work behind the redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 2**20)

# --- Caches ---------------------------------------------------------------------------
# Throttle counters live here; set CACHE_URL (for example redis://...) when several web
# processes must share them.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- REST API ---------------------------------------------------------------------------
# Deny by default: every endpoint needs an authenticated caller and a role rule to allow it.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.TokenRateThrottle",
        "api.throttling.AnonRateThrottle",
    ],
    # The same proxies as sign-in lockouts: the anonymous rate counts per client address,
    # and without proxies X-Forwarded-For is ignored rather than believed.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_TOKEN", default="6000/min"),
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Body limits per URL prefix, past which the API answers 413 before reading the body.
MLPROJECTS_API_BODY_LIMITS = {
    "/api/v1/": env.int("API_MAX_BODY_BYTES", default=2 * 2**20),
    # Bulk metric uploads stream in chunks, so their cap can be far above v1's default.
    "/api/v1/runs/": env.int("API_MAX_BULK_BODY_BYTES", default=256 * 2**20),
    # Production batches and references are read whole, below Django's in-memory limit.
    "/api/v1/deployments/": env.int("API_MAX_BATCH_BODY_BYTES", default=8 * 2**20),
    # The MLflow API takes artifact uploads, so its cap is the largest artifact accepted;
    # its JSON endpoints enforce their own, smaller limits (log-batch: MLflow's 1 MB).
    "/api/2.0/": env.int("MLFLOW_MAX_ARTIFACT_BYTES", default=2 * 2**30),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "mlprojects API",
    "DESCRIPTION": "Track ML projects through their lifecycle phases. Authenticate with "
    "`Authorization: Bearer <token>`; create tokens at `/api/v1/tokens/`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "phases.choices.Role",
        "PriorityEnum": "phases.choices.Priority",
        "HealthEnum": "phases.choices.Health",
        "PhaseStatusEnum": "phases.choices.PhaseStatus",
        "TaskStatusEnum": "phases.choices.TaskStatus",
        "OutcomeKindEnum": "phases.choices.OutcomeKind",
        "ReviewStatusEnum": "phases.choices.ReviewStatus",
        "TransitionKindEnum": "phases.choices.TransitionKind",
        "MetricDirectionEnum": "phases.choices.MetricDirection",
        "EvidenceRuleEnum": "phases.choices.EvidenceRule",
        "ResultStatusEnum": "monitoring.choices.ResultStatus",
        "AlertStateEnum": "monitoring.choices.AlertState",
        "MonitorKindEnum": "monitoring.choices.MonitorKind",
        "ColumnKindEnum": "monitoring.choices.ColumnKind",
        "ColumnRoleEnum": "monitoring.choices.ColumnRole",
        "SweepStatusEnum": "experiments.choices.SweepStatus",
        "TrialStatusEnum": "experiments.choices.TrialStatus",
        "SweepTaskEnum": "experiments.choices.Task",
        "DatasetSourceEnum": "experiments.choices.DatasetSource",
        "ReferenceSourceEnum": "monitoring.choices.ReferenceSource",
    },
}

# --- Celery -----------------------------------------------------------------------------
# The embedded broker is kombu's SQLAlchemy transport on a SQLite file: a real worker and
# beat with no server. Results are never stored: tasks write their outcome to the database.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# No result backend, so beat has no results to clean up: no celery.backend_cleanup job.
CELERY_RESULT_EXPIRES = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
CELERY_TASK_DEFAULT_QUEUE = Queue.DEFAULT.value
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection before and after every task unless
# it is told to reuse it, so each trial paid a new PostgreSQL connection (about 5 ms, and
# a server process with cold caches that made its first queries slower). Reused here for
# this many tasks; mlprojects.celery closes a stale one before each task instead, as
# Django does around each request (CONN_MAX_AGE and the health check).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)

# --- Experiment jobs (sweeps) -----------------------------------------------------------
# The longest one trial may run (seconds); past it the trial is recorded as failed.
EXPERIMENTS_TRIAL_TIME_LIMIT = env.int("EXPERIMENTS_TRIAL_TIME_LIMIT", default=30 * 60)
# A worker holds the lease of the trial it runs for this long and renews it every third of
# it; a redelivered trial whose lease expired is taken over (its first owner is gone).
EXPERIMENTS_TRIAL_LEASE_SECONDS = env.int("EXPERIMENTS_TRIAL_LEASE_SECONDS", default=60)
# Claims of one trial (expired leases included) before it is recorded as failed.
EXPERIMENTS_TRIAL_MAX_ATTEMPTS = env.int("EXPERIMENTS_TRIAL_MAX_ATTEMPTS", default=3)
# Retries of a transient error (the database or the broker away), with exponential backoff.
EXPERIMENTS_TRIAL_MAX_RETRIES = env.int("EXPERIMENTS_TRIAL_MAX_RETRIES", default=5)
# Trials of one sweep waiting in the queue at once: sweeps started together interleave
# instead of one waiting behind the other's thousand trials.
EXPERIMENTS_SWEEP_WINDOW = env.int("EXPERIMENTS_SWEEP_WINDOW", default=16)
# Trials of one project running at once, over all its sweeps, unless the project sets its
# own (TrialQuota); 0 means no cap.
EXPERIMENTS_PROJECT_MAX_CONCURRENT = env.int("EXPERIMENTS_PROJECT_MAX_CONCURRENT", default=0)
# A sweep with queued trials but none running or finished for this long is sent again.
EXPERIMENTS_STALL_SECONDS = env.int("EXPERIMENTS_STALL_SECONDS", default=5 * 60)
EXPERIMENTS_MAX_TRIALS = env.int("EXPERIMENTS_MAX_TRIALS", default=1000)
# Redis redelivers a message nobody acknowledged after this many seconds (1 hour by
# default): it must exceed the longest trial, or a healthy trial would be handed to a
# second worker mid-run (the ledger would keep it from running twice, at a cost).
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int(
    "CELERY_BROKER_VISIBILITY_TIMEOUT", default=EXPERIMENTS_TRIAL_TIME_LIMIT + 3600
)
if CELERY_BROKER_VISIBILITY_TIMEOUT <= EXPERIMENTS_TRIAL_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_BROKER_VISIBILITY_TIMEOUT must exceed EXPERIMENTS_TRIAL_TIME_LIMIT"
    )
# How often a worker looks for messages past their visibility timeout (a dead worker's)
# and hands them out again; Redis's transport looks every 100 s unless told.
CELERY_BROKER_RESTORE_SECONDS = env.int("CELERY_BROKER_RESTORE_SECONDS", default=60)
# Redis's options only: the embedded broker's transport hands its options to SQLAlchemy.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": CELERY_BROKER_RESTORE_SECONDS,
        "unacked_restore_throttle": 1,  # every look scans: the interval alone says how often
    }

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# --- mlprojects -------------------------------------------------------------------------
# How many days past due a task or phase may be before it turns a project red.
MLPROJECTS_RED_AFTER_DAYS = env.int("MLPROJECTS_RED_AFTER_DAYS", default=14)
# Where run artifacts live on disk: <root>/<project id>/<experiment id>/<run id>/artifacts/.
MLPROJECTS_ARTIFACT_ROOT = Path(
    env.str("MLPROJECTS_ARTIFACT_ROOT", default=str(VAR_DIR / "artifacts"))
)
# Uploaded CSV datasets: kept beside the artifacts (storage every process shares), and the
# largest accepted.
EXPERIMENTS_DATASET_ROOT = Path(
    env.str("EXPERIMENTS_DATASET_ROOT", default=str(MLPROJECTS_ARTIFACT_ROOT / "datasets"))
)
EXPERIMENTS_MAX_DATASET_BYTES = env.int("EXPERIMENTS_MAX_DATASET_BYTES", default=20 * 2**20)

# --- Monitoring -------------------------------------------------------------------------
# Share of drifted features at which a window counts as dataset drift (Evidently's default).
MONITORING_DRIFT_SHARE = env.float("MONITORING_DRIFT_SHARE", default=0.5)
# How often a firing alert nobody acknowledged is notified again (a monitor may differ).
MONITORING_REPEAT_INTERVAL = dt.timedelta(
    hours=env.float("MONITORING_REPEAT_INTERVAL_HOURS", default=4)
)
# Notification retries: exponential backoff from the first delay, capped, then given up.
MONITORING_DELIVERY_MAX_ATTEMPTS = env.int("MONITORING_DELIVERY_MAX_ATTEMPTS", default=8)
MONITORING_DELIVERY_BACKOFF_SECONDS = env.int("MONITORING_DELIVERY_BACKOFF_SECONDS", default=30)
MONITORING_DELIVERY_MAX_BACKOFF_SECONDS = env.int(
    "MONITORING_DELIVERY_MAX_BACKOFF_SECONDS", default=3600
)
# Rows one production batch may hold (the request body limit applies too).
MONITORING_MAX_BATCH_ROWS = env.int("MONITORING_MAX_BATCH_ROWS", default=100_000)
# Largest training-data file read from a run's artifacts as a deployment's reference.
MONITORING_MAX_REFERENCE_BYTES = env.int("MONITORING_MAX_REFERENCE_BYTES", default=256 * 2**20)
# Days the production deployment's monitors must have been ok for the gate evidence rule.
MONITORING_GATE_OK_DAYS = env.int("MONITORING_GATE_OK_DAYS", default=14)
# Labelled production rows an export (the retraining sweep's default dataset) needs at least.
MONITORING_EXPORT_MIN_ROWS = env.int("MONITORING_EXPORT_MIN_ROWS", default=100)
MONITORING_WEBHOOK_TIMEOUT_SECONDS = env.float("MONITORING_WEBHOOK_TIMEOUT_SECONDS", default=10)
# Webhook hosts that may resolve to loopback, private or link-local addresses; every other
# host must resolve to public addresses only (no request forgery into the local network).
MONITORING_WEBHOOK_ALLOWED_HOSTS = [
    host.lower() for host in env.list("MONITORING_WEBHOOK_ALLOWED_HOSTS", default=[])
]

# --- Email ------------------------------------------------------------------------------
# Alert emails: Django's mail settings from one URL (smtp+tls://user:password@host:587);
# the default prints them to the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="mlprojects@localhost")
