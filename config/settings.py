"""One settings module, read from the environment.

With nothing set it runs the demo on one machine: SQLite under var/ and a Celery broker on the
filesystem. Production sets DEBUG=false, SECRET_KEY, CREDENTIALS_ENCRYPTION_KEYS, DATABASE_URL,
REDIS_URL and ALLOWED_HOSTS (see README.md).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import demo_secret, env_bool, env_list, env_log_format
from config.logging import level_at_least

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = demo_secret("SECRET_KEY", var_dir=VAR_DIR, allow_generated=DEBUG)
# Comma-separated Fernet keys: the first encrypts, all decrypt (rotation: README.md).
CREDENTIALS_ENCRYPTION_KEYS = demo_secret(
    "CREDENTIALS_ENCRYPTION_KEYS", var_dir=VAR_DIR, allow_generated=DEBUG
).split(",")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The Seller Central sandbox: on for the demo and the tests, off in production. Its SP-API
# answers on its own port (SANDBOX_URL); its control page is /sandbox/ on this site.
SELLER_CENTRAL_SANDBOX_ENABLED = env_bool("SELLER_CENTRAL_SANDBOX_ENABLED", DEBUG)
SANDBOX_URL = os.environ.get("SANDBOX_URL", "http://127.0.0.1:8001")
# Our shared limiter's rates times this (set it to SANDBOX_TIME_SCALE against a faster sandbox).
AMAZON_RATE_LIMIT_SCALE = float(os.environ.get("AMAZON_RATE_LIMIT_SCALE", "1"))
# We pace this fraction below Amazon's documented rates: our bucket and Amazon's start a few
# milliseconds apart, and a 429 costs far more than the margin.
AMAZON_RATE_LIMIT_MARGIN = float(os.environ.get("AMAZON_RATE_LIMIT_MARGIN", "0.02"))
# Runs Amazon's rate limits and feed processing times this many times faster (tests, benchmarks).
SANDBOX_TIME_SCALE = float(os.environ.get("SANDBOX_TIME_SCALE", "1"))
# How long the sandbox keeps a feed in its queue, then processing (seconds at time scale 1).
SANDBOX_FEED_QUEUE_SECONDS = float(os.environ.get("SANDBOX_FEED_QUEUE_SECONDS", "3"))
SANDBOX_FEED_PROCESSING_SECONDS = float(os.environ.get("SANDBOX_FEED_PROCESSING_SECONDS", "3"))
# The SQS server the sandbox sends its notifications to (a local moto server: `moto_server`
# listens on port 5000 by default), and how often its process finishes due feeds and releases
# notifications held back (seconds; 0: never, as in the tests, which do it themselves).
SANDBOX_SQS_ENDPOINT_URL = os.environ.get("SANDBOX_SQS_ENDPOINT_URL", "http://127.0.0.1:5000")
SANDBOX_NOTIFICATION_PUMP_SECONDS = float(os.environ.get("SANDBOX_NOTIFICATION_PUMP_SECONDS", "1"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "axes",
    # django-csp: its checks of CONTENT_SECURITY_POLICY (the header comes from its middleware).
    "csp",
    "commerce_orders",
    "amazon_channel",
    "dashboard",
    # `manage.py demo_setup`: the demo's login, catalog and sandbox store.
    "demo",
]
if SELLER_CENTRAL_SANDBOX_ENABLED:
    INSTALLED_APPS.append("seller_central_sandbox")

MIDDLEWARE = [
    "config.logging.RequestIdMiddleware",
    # Before the Host check and the HTTPS redirect: probes come by address, over HTTP.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: DATABASE_URL (PostgreSQL in production), else SQLite in WAL mode so that the web
# server and the worker can both write.
SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{SQLITE_PATH}", conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:store_list"
LOGOUT_REDIRECT_URL = "login"

# Repeated failed sign-ins (django-axes): a username is locked out, from every address, after
# AXES_FAILURE_LIMIT failures in a row, for AXES_COOLOFF_MINUTES; a success resets the count.
# By username alone: guesses spread over many addresses (a botnet, forged proxy headers) still
# count. The price is that anyone can lock a known username out for the cool-off time.
AUTHENTICATION_BACKENDS = [
    "config.auth.LoginLockoutBackend",
    "config.auth.CachedPermissionsBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address among the parameters, lest rotating User-Agents or cookies slip
# past; a username lockout ignores both. Locking addresses too would lock every merchant behind
# one office NAT or one proxy (until AXES_IPWARE_PROXY_COUNT is set) after five typos.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/login.html"
# No start-up banner in every process's output; sign-in failures are logged either way.
AXES_VERBOSE = False
# The client address (logged with each failure) is REMOTE_ADDR. Behind reverse proxies that set
# X-Forwarded-For, set AXES_IPWARE_PROXY_COUNT to their number (never trust the header without a
# proxy that sets it).
AXES_IPWARE_PROXY_COUNT = (
    int(os.environ["AXES_IPWARE_PROXY_COUNT"])
    if os.environ.get("AXES_IPWARE_PROXY_COUNT")
    else None
)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("de", _("German")),
    ("it", _("Italian")),
    ("nl", _("Dutch")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
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

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "sent-mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "orders@localhost")
# An unreachable mail server fails the buyer e-mail's attempt (retried later) within this long.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))

# Redis: the Celery broker, the cache and (later) the shared SP-API rate limiter.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_DATA_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        # The exchange tables (else kombu writes a control/ folder wherever the process runs).
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "processed", "control"):
        (CELERY_DATA_DIR / folder).mkdir(parents=True, exist_ok=True)
else:
    # Redis hands a task nobody acknowledged within this long to another worker: it must outlast
    # the longest countdown and the time limit (checked below, once the Amazon settings are read).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("BROKER_VISIBILITY_TIMEOUT_SECONDS", "7200"))
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
# django-celery-beat's scheduler, touching BEAT_HEARTBEAT_FILE on each tick (compose checks it).
CELERY_BEAT_SCHEDULER = "config.beat:HeartbeatDatabaseScheduler"
BEAT_HEARTBEAT_FILE = CELERY_DATA_DIR / "beat.heartbeat"
# The beat schedule, in one place. Beat copies these entries into the database at start, where
# ops can edit them in Django admin; each store's own sync entry (every
# AMAZON_SYNC_INTERVAL_SECONDS) is created when the store is connected.
AMAZON_SYNC_INTERVAL_SECONDS = int(os.environ.get("AMAZON_SYNC_INTERVAL_SECONDS", "300"))
CELERY_BEAT_SCHEDULE = {
    "amazon-outbox-sweep": {"task": "amazon_channel.tasks.outbox_sweep", "schedule": 60.0},
    # The store marks' rows into one a store (amazon_channel/stores/changes.py).
    "amazon-store-changes-compact": {
        "task": "amazon_channel.tasks.store_changes_compact",
        "schedule": 60.0,
    },
    # Notifications recorded whose hand-off to Celery was lost (consumer or broker died).
    "amazon-notifications-sweep": {
        "task": "amazon_channel.tasks.notifications_sweep",
        "schedule": 60.0,
    },
}
# Pages a worker reads before it hands the store back to the queue, so stores take turns.
AMAZON_SYNC_PAGES_PER_STEP = int(os.environ.get("AMAZON_SYNC_PAGES_PER_STEP", "3"))
# Every call to Amazon gives up after this long (then it is retried like a 5xx).
AMAZON_REQUEST_TIMEOUT_SECONDS = float(os.environ.get("AMAZON_REQUEST_TIMEOUT_SECONDS", "20"))
# A worker's claim on a sync run or a feed; a killed worker's claim lapses after this long.
AMAZON_LEASE_SECONDS = int(os.environ.get("AMAZON_LEASE_SECONDS", "300"))
# The first wait after a 429 / 5xx / timeout; doubled each time, with full jitter, capped at 5 min.
AMAZON_RETRY_BASE_SECONDS = float(os.environ.get("AMAZON_RETRY_BASE_SECONDS", "2"))
# A submitted feed is polled (getFeed) after AMAZON_FEED_FIRST_POLL_SECONDS, then less and less
# often, at most every AMAZON_FEED_POLL_SECONDS (amazon_channel/outbox/feeds.py).
AMAZON_FEED_FIRST_POLL_SECONDS = float(os.environ.get("AMAZON_FEED_FIRST_POLL_SECONDS", "2"))
AMAZON_FEED_POLL_SECONDS = float(os.environ.get("AMAZON_FEED_POLL_SECONDS", "30"))
# After a store's first feed of a quiet period, pending cancellations and refunds are collected
# this long into one feed (createFeed allows 15, then one per 2 minutes).
AMAZON_FEED_COLLECT_SECONDS = float(os.environ.get("AMAZON_FEED_COLLECT_SECONDS", "4"))
# A search window ends this long before Amazon's "two minutes before the request", because our
# clock and Amazon's differ; a window Amazon still finds too recent is moved back further.
AMAZON_CLOCK_SKEW_MARGIN_SECONDS = float(os.environ.get("AMAZON_CLOCK_SKEW_MARGIN_SECONDS", "60"))

# Amazon's notifications (ORDER_CHANGE, FEED_PROCESSING_FINISHED) arrive in this SQS standard
# queue; empty: off, and the poll alone keeps stores in step. The consumer process
# (`manage.py notifications_consume`, Procfile's `notifications`) reads it with boto3 and the
# usual AWS credentials (AWS_ACCESS_KEY_ID...); AMAZON_SQS_ENDPOINT_URL points it at another SQS
# server (the demo's and the tests' moto). See amazon_channel/notifications/.
AMAZON_NOTIFICATIONS_QUEUE_URL = os.environ.get("AMAZON_NOTIFICATIONS_QUEUE_URL", "")
AMAZON_SQS_ENDPOINT_URL = os.environ.get("AMAZON_SQS_ENDPOINT_URL", "")
# A message Amazon's queue delivered this many times unhandled goes to the dead-letter queue
# (the redrive policy `notifications_queue_create` writes).
AMAZON_NOTIFICATIONS_MAX_RECEIVES = int(os.environ.get("AMAZON_NOTIFICATIONS_MAX_RECEIVES", "5"))
# The consumer makes the queue (as `notifications_queue_create` does) before reading it: for the
# demo, whose moto server starts empty with every `make run` (the Makefile turns it on).
AMAZON_NOTIFICATIONS_QUEUE_CREATE = env_bool("AMAZON_NOTIFICATIONS_QUEUE_CREATE", False)
# The consumer touches this file on every loop (at least every 20 s); docker-compose's health
# check of the `notifications` service fails when it is older than a minute.
NOTIFICATIONS_HEARTBEAT_FILE = VAR_DIR / "notifications.heartbeat"
# Changes of one order within this many seconds are one getOrder re-read.
AMAZON_NOTIFICATIONS_COALESCE_SECONDS = float(
    os.environ.get("AMAZON_NOTIFICATIONS_COALESCE_SECONDS", "2")
)
# A store whose notifications are on warns when none arrived this long while the poll found
# changes ("push misses").
AMAZON_NOTIFICATIONS_QUIET_SECONDS = int(
    os.environ.get("AMAZON_NOTIFICATIONS_QUIET_SECONDS", str(6 * 3600))
)

# The longest countdown a task can ask for (amazon_channel/tasks.py): the refill of Amazon's
# slowest bucket as we pace it (searchOrders, 0.0056 a second), the retry backoff's cap (5 min,
# amazon_channel/orders/sync.py), a feed poll, or Celery's autoretry backoff cap (10 min), plus
# the tasks' jitter. tests/test_celery_broker.py recomputes it from the code.
AMAZON_SLOWEST_RATE_PER_SECOND = 0.0056
if AMAZON_RATE_LIMIT_SCALE <= 0 or not 0 <= AMAZON_RATE_LIMIT_MARGIN < 1:
    raise ImproperlyConfigured(
        "AMAZON_RATE_LIMIT_SCALE must be positive and AMAZON_RATE_LIMIT_MARGIN in [0, 1)."
    )
LONGEST_TASK_COUNTDOWN_SECONDS = 1.0 + max(
    1 / (AMAZON_SLOWEST_RATE_PER_SECOND * AMAZON_RATE_LIMIT_SCALE * (1 - AMAZON_RATE_LIMIT_MARGIN)),
    300.0,
    AMAZON_FEED_POLL_SECONDS,
    600.0,
)
_visibility_timeout = CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
if _visibility_timeout is not None and _visibility_timeout <= max(
    LONGEST_TASK_COUNTDOWN_SECONDS, CELERY_TASK_TIME_LIMIT
):
    # Else Redis would run a waiting or a long task twice, on two workers.
    raise ImproperlyConfigured(
        f"BROKER_VISIBILITY_TIMEOUT_SECONDS ({_visibility_timeout}) must be longer than the "
        f"longest countdown a task can ask for ({LONGEST_TASK_COUNTDOWN_SECONDS:.0f} s, from "
        "AMAZON_RATE_LIMIT_SCALE, AMAZON_RATE_LIMIT_MARGIN and AMAZON_FEED_POLL_SECONDS) and "
        f"than CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT} s)."
    )

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Sessions read from Redis (written to both, the database the lasting copy): one query less on
# every page. Without Redis the cache is each process's own memory, where a worker would keep
# a session another worker signed out: the database alone then.
# A user's permissions kept in Redis this long (config.auth.CachedPermissionsBackend; a change
# through Django moves them on at once): without Redis each process would keep its own copy,
# which another process's change would not reach, so the database is read on every request.
PERMISSIONS_CACHE_SECONDS = (
    int(os.environ.get("PERMISSIONS_CACHE_SECONDS", "60")) if REDIS_URL else 0
)
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# Production hardening; all of it on as soon as DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe the health endpoint over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, images and fonts from this site only
# (static/; no CDN), no inline script or style, no plugins, no framing, forms post here only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True

# Logs: JSON lines on stderr in production (LOG_FORMAT=json in development too), a plain line
# when DEBUG is on; both carry the request and task ids (config/logging.py). E-mail addresses
# are redacted from every record.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_log_format(debug=DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "config.logging.LogContextFilter"},
        "personal_data": {"()": "config.logging.PersonalDataFilter"},
    },
    "formatters": {
        "plain": {"()": "config.logging.PlainFormatter"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # stderr: docker and honcho collect it; commands keep stdout for their output.
            "stream": "ext://sys.stderr",
            "formatter": LOG_FORMAT,
            "filters": ["context", "personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler would print its records a second time.
        "django": {"handlers": [], "level": level_at_least(LOG_LEVEL, "INFO")},
        # At DEBUG these log SQL parameters, SP-API request and response bodies and HTTP headers:
        # buyer names, addresses and access tokens. Never below INFO, whatever LOG_LEVEL says.
        "django.db.backends": {"level": level_at_least(LOG_LEVEL, "WARNING")},
        "sp_api": {"level": level_at_least(LOG_LEVEL, "INFO")},
        "httpcore": {"level": level_at_least(LOG_LEVEL, "INFO")},
        # A line per SP-API call (URLs with order ids and dates): for development only.
        "httpx": {"level": level_at_least(LOG_LEVEL, "INFO" if DEBUG else "WARNING")},
    },
}
