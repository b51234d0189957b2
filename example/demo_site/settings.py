"""Settings of the djinsight demo site.

run_demo.py sets the environment: where the data lives (DJINSIGHT_DEMO_DIR),
which Redis to use (DJINSIGHT_REDIS_URL) and the key prefix that keeps the
demo's keys, Celery's included, apart from anything else in that Redis.
djinsight has that Redis database to itself; the cache and the Celery broker
use the next database number of the same server (docs/settings.md, "Redis").
"""

import os
from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DJINSIGHT_DEMO_DIR", EXAMPLE_DIR.parent / ".demo")).resolve()

SECRET_KEY = os.environ.get("DJINSIGHT_DEMO_SECRET", "djinsight-demo-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Required dependencies
    "django_celery_beat",  # For periodic tasks
    # Wagtail, for the BlogPage example
    "wagtail",
    "wagtail.admin",
    "wagtail.users",
    "wagtail.images",  # Wagtail's admin needs images and documents installed
    "wagtail.documents",
    "wagtail.sites",
    "wagtail.search",
    "taggit",
    "modelcluster",
    # Your apps
    "djInsight",  # Add djInsight
    "djinsight.contrib.wagtail",  # its Wagtail admin surfaces: report, panels, column
    "demo_site",
    "blog",
    "shop",
    "courses",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "demo_site.views.navigation",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        # The web server, the Celery worker and beat share one file: WAL lets
        # readers run while the flush writes, IMMEDIATE avoids upgrade deadlocks.
        "OPTIONS": {
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = os.environ.get("DJINSIGHT_DEMO_TIME_ZONE", "Europe/Warsaw")
LANGUAGE_CODE = "en-us"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

REDIS_URL = os.environ.get("DJINSIGHT_REDIS_URL", "redis://127.0.0.1:6379/0")
KEY_PREFIX = os.environ.get("DJINSIGHT_DEMO_PREFIX", "djinsight:")


def next_database(url: str) -> str:
    """``url``'s server, the next database number (15 -> 0)."""
    server, _, db = url.rstrip("/").rpartition("/")
    if not db.isdigit():  # no database number: db 0
        server, db = url.rstrip("/"), "0"
    return f"{server}/{(int(db) + 1) % 16}"


# The cache's and the broker's Redis: not djinsight's database (checks W002, W003).
SHARED_REDIS_URL = next_database(REDIS_URL)

# Redis Configuration (required)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": SHARED_REDIS_URL,
        "KEY_PREFIX": KEY_PREFIX + "cache",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

# Celery Configuration (required for background processing)
CELERY_BROKER_URL = SHARED_REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": KEY_PREFIX + "celery:"}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# djInsight Settings
DJINSIGHT_ENABLE_TRACKING = True
DJINSIGHT_REDIS_URL = REDIS_URL
DJINSIGHT_REDIS_KEY_PREFIX = KEY_PREFIX
DJINSIGHT_CLEANUP_DAYS = 120  # keep the demo's 90 days of synthetic history
# Flush every few seconds so the demo shows views reaching the database quickly.
DJINSIGHT_FLUSH_INTERVAL = int(os.environ.get("DJINSIGHT_FLUSH_INTERVAL", "10"))

WAGTAIL_SITE_NAME = "djinsight demo"
WAGTAILADMIN_BASE_URL = os.environ.get("DJINSIGHT_DEMO_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"short": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "short"}},
    "loggers": {
        "djinsight": {"handlers": ["console"], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
