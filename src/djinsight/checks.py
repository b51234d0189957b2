"""System checks for DJINSIGHT_* settings and the Redis configuration."""

from __future__ import annotations

from numbers import Real

from django.core import checks

from djinsight.conf import settings
from djinsight.store.client import redis_url


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


RULES = [
    ("E001", "ENABLE_TRACKING", lambda v: isinstance(v, bool), "True or False"),
    (
        "E002",
        "REDIS_KEY_PREFIX",
        lambda v: isinstance(v, str) and v != "" and not any(c in v for c in "{} \n"),
        "a non-empty string without spaces or braces, such as 'djinsight:'",
    ),
    ("E003", "CLEANUP_DAYS", _positive_int, "a positive number of days, such as 90"),
    ("E004", "BATCH_SIZE", _positive_int, "a positive integer, such as 1000"),
    (
        "E005",
        "REDIS_TIMEOUT",
        lambda v: isinstance(v, Real) and not isinstance(v, bool) and float(v) > 0,
        "a positive number of seconds, such as 5",
    ),
    (
        "E006",
        "REDIS_EXPIRATION",
        _positive_int,
        "a positive number of seconds, such as 604800 (7 days)",
    ),
    (
        "E008",
        "BUFFER_SHARDS",
        lambda v: _positive_int(v) and v <= 1024,
        "an integer from 1 to 1024",
    ),
    ("E009", "MAX_BODY_BYTES", _positive_int, "a positive number of bytes, such as 4096"),
    ("E010", "FLUSH_INTERVAL", _positive_int, "a positive number of seconds, such as 60"),
    ("E012", "SKIP_EDITORS", lambda v: isinstance(v, bool), "True or False"),
]


@checks.register()
def check_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for code, name, valid, expected in RULES:
        value = getattr(settings, name)
        if not valid(value):
            errors.append(
                checks.Error(
                    f"DJINSIGHT_{name} is {value!r}; it must be {expected}.",
                    hint=f"Fix or remove DJINSIGHT_{name} in your settings.",
                    id=f"djinsight.{code}",
                )
            )
    errors += check_redis()
    return errors


def check_redis() -> list[checks.CheckMessage]:
    url = redis_url()
    if url is None:
        return [
            checks.Error(
                "djinsight has no Redis to record views in.",
                hint=(
                    "Set DJINSIGHT_REDIS_URL = 'redis://127.0.0.1:6379/0', or configure "
                    f"CACHES[{settings.REDIS_CACHE_ALIAS!r}] with the django_redis backend."
                ),
                id="djinsight.E007",
            )
        ]
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        return [
            checks.Error(
                f"djinsight's Redis URL is {url!r}; it must start with redis://, rediss:// or unix://.",
                hint="Fix DJINSIGHT_REDIS_URL or the LOCATION of your Redis cache.",
                id="djinsight.E011",
            )
        ]
    return []
