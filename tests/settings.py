"""Test settings: database and Redis addresses come from the environment.

DJINSIGHT_TEST_DB: sqlite (default), postgresql or mysql.
DJINSIGHT_TEST_POSTGRES / DJINSIGHT_TEST_MYSQL: host:port (defaults 127.0.0.1:5432 / :3306).
DJINSIGHT_TEST_REDIS: djinsight's Redis URL (default redis://127.0.0.1:6379/15).
DJINSIGHT_TEST_BROKER: the Celery broker's (default: the same server, the next database).
"""

import os

SECRET_KEY = "djinsight-tests-not-secret"
DEBUG = False
# Servers the tests start (gunicorn) name the hosts they answer for.
ALLOWED_HOSTS = [host for host in os.environ.get("DJINSIGHT_TEST_HOSTS", "").split(",") if host]
USE_TZ = True
TIME_ZONE = "Europe/Warsaw"

VENDOR = os.environ.get("DJINSIGHT_TEST_DB", "sqlite")


def _host_port(env: str, default: str) -> tuple[str, str]:
    host, _, port = os.environ.get(env, default).partition(":")
    return host, port


# Subprocesses (crash and race tests) use the test database the parent created.
DB_NAME = os.environ.get("DJINSIGHT_TEST_DBNAME", "test")
BROKEN = os.environ.get("DJINSIGHT_TEST_DB_BROKEN") == "1"

if VENDOR == "postgresql":
    host, port = _host_port("DJINSIGHT_TEST_POSTGRES", "127.0.0.1:5432")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DB_NAME,
            "USER": os.environ.get("DJINSIGHT_TEST_PGUSER", "postgres"),
            "HOST": host,
            "PORT": "1" if BROKEN else port,
            "TEST": {"NAME": f"djt_{os.getpid()}"},
        }
    }
elif VENDOR == "mysql":
    host, port = _host_port("DJINSIGHT_TEST_MYSQL", "127.0.0.1:3306")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": DB_NAME,
            "USER": "root",
            "HOST": host,
            "PORT": "1" if BROKEN else port,
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {
                "NAME": f"djt_{os.getpid()}",
                "CHARSET": "utf8mb4",
            },
        }
    }
else:
    SQLITE = os.environ.get("DJINSIGHT_TEST_SQLITE", f"/tmp/djinsight-test-{os.getpid()}.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": "/nonexistent/dir/db.sqlite3" if BROKEN else SQLITE,
            "TEST": {"NAME": SQLITE},
            "OPTIONS": {"timeout": 20},
        }
    }

REDIS_URL = os.environ.get("DJINSIGHT_TEST_REDIS", "redis://127.0.0.1:6379/15")
# djinsight has its Redis database to itself, as docs/settings.md advises (checks W002, W003).
DJINSIGHT_REDIS_URL = REDIS_URL
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Each test run gets its own key space, so runs on several databases can share one Redis.
DJINSIGHT_REDIS_KEY_PREFIX = os.environ.get("DJINSIGHT_TEST_PREFIX", f"djt{os.getpid()}:")
DJINSIGHT_REDIS_TIMEOUT = 2
# The suites send many beacons from a few addresses: budgets are on only in their own
# tests (override_settings).
DJINSIGHT_RATE_LIMIT = None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "wagtail",
    "wagtail.admin",
    "wagtail.users",
    "wagtail.images",
    "wagtail.documents",
    "wagtail.sites",
    "taggit",
    "modelcluster",
    "djInsight",
    "djinsight.contrib.wagtail",
    "tests.testapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"
STATIC_URL = "/static/"
WAGTAIL_SITE_NAME = "djinsight tests"
WAGTAILADMIN_BASE_URL = "http://testserver"

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
            ]
        },
    }
]


def next_database(url: str) -> str:
    """``url``'s server, the next database number (15 -> 0), as the demo's settings do."""
    server, _, db = url.rstrip("/").rpartition("/")
    if not db.isdigit():  # no database number: db 0
        server, db = url.rstrip("/"), "0"
    return f"{server}/{(int(db) + 1) % 16}"


CELERY_BROKER_URL = os.environ.get("DJINSIGHT_TEST_BROKER", next_database(REDIS_URL))
CELERY_TASK_ALWAYS_EAGER = False
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"djinsight": {"handlers": ["console"], "level": "WARNING"}},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# One queue per test run, shared with the worker subprocesses it starts.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DJINSIGHT_TEST_QUEUE", f"djt{os.getpid()}")
DJINSIGHT_FLUSH_INTERVAL = int(os.environ.get("DJINSIGHT_TEST_FLUSH_INTERVAL", "60"))
