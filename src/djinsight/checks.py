"""System checks for DJINSIGHT_* settings and the Redis configuration."""

from __future__ import annotations

import ipaddress
import math
import re
from numbers import Real

import redis
from django.conf import settings as django_settings
from django.core import checks
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.retry import Retry

from djinsight.conf import settings
from djinsight.store.client import REDIS_CACHE_BACKENDS, redis_url
from djinsight.store.keys import proxy_suspected

# Checks run with most manage.py commands: a Redis that does not answer costs at most this.
SERVER_TIMEOUT = 0.5
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _networks(value) -> bool:
    if not isinstance(value, (list, tuple)):
        return False
    try:
        for network in value:
            ipaddress.ip_network(network, strict=False)
    except (TypeError, ValueError):
        return False
    return True


def _trusted_proxies(value) -> bool:
    if value is None or _networks(value):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _budget(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _rate_limit(value) -> bool:
    if value is None or (_budget(value) and isinstance(value, int)):
        return True
    return (
        isinstance(value, dict)
        and set(value) <= {"views", "visitors"}
        and all(_budget(v) for v in value.values())
    )


def _positive_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and 0 < float(value) < math.inf


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
    ("E005", "REDIS_TIMEOUT", _positive_number, "a positive number of seconds, such as 5"),
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
    (
        "E013",
        "UNIQUE_EXACT_LIMIT",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "an integer of 0 or more, such as 1000",
    ),
    (
        "E014",
        "READ_TIMEOUT",
        lambda v: _positive_number(v) and float(v) <= 60,
        "a positive number of seconds up to 60, such as 0.25",
    ),
    ("E015", "COUNT_BOTS", lambda v: isinstance(v, bool), "True or False"),
    ("E016", "SKIP_EDITORS", lambda v: isinstance(v, bool), "True or False"),
    (
        "E017",
        "TRUSTED_PROXIES",
        _trusted_proxies,
        "None, a number of proxies (such as 1) or a list of their networks "
        "(such as ['10.0.0.0/8'])",
    ),
    (
        "E018",
        "RATE_LIMIT",
        _rate_limit,
        "None (no budgets), a number of views per minute, or a dict such as "
        "{'views': 30, 'visitors': 60} (numbers of 0 or more, or None)",
    ),
    (
        "E019",
        "ALLOWED_ORIGINS",
        lambda v: isinstance(v, (list, tuple)) and all(isinstance(h, str) and h for h in v),
        "a list of site names, such as ['blog.example.com', '.example.org']",
    ),
    ("E020", "RESPECT_GPC", lambda v: isinstance(v, bool), "True or False"),
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
    errors += check_deprecated()
    errors += check_redis()
    return errors


def check_deprecated() -> list[checks.CheckMessage]:
    if not settings.IP_META_KEY_SET:
        return []
    return [
        checks.Warning(
            f"DJINSIGHT_IP_META_KEY ({settings.IP_META_KEY!r}) is deprecated"
            + (
                ", and ignored since DJINSIGHT_TRUSTED_PROXIES is set."
                if settings.TRUSTED_PROXIES is not None
                else "; djinsight reads the right-most address of that header."
            ),
            hint=(
                "Remove it and declare your reverse proxies instead: DJINSIGHT_TRUSTED_PROXIES "
                "= 1 (their number) or a list of their networks. See docs/settings.md."
            ),
            id="djinsight.W006",
        )
    ]


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
    return check_shared(url) + check_server(url)


# -- a Redis of its own ------------------------------------------------------------------

OWN_REDIS = (
    "Give djinsight a Redis of its own: set DJINSIGHT_REDIS_URL to another server (best: "
    "memory and the eviction policy are per server) or at least another database number, "
    "such as 'redis://127.0.0.1:6379/2'. See docs/settings.md."
)


def redis_address(url: str) -> tuple | None:
    """The server and database a Redis URL names, with localhost and 127.0.0.1 alike:
    (host, port, db), (socket path, db), or None if it is no Redis URL."""
    try:
        found = parse_url(url.strip())
        db = int(found.get("db") or 0)
    except (ValueError, TypeError):
        return None
    if "path" in found:
        return (found["path"], db)
    host = str(found.get("host") or "localhost").lower()
    return ("127.0.0.1" if host in LOOPBACK else host, int(found.get("port") or 6379), db)


def shown(address: tuple) -> str:
    """An address for a message: never the URL, which may carry a password."""
    *server, db = address
    return f"{':'.join(map(str, server))} db {db}"


def _urls(value) -> list[str]:
    """The URLs of a cache LOCATION or broker setting: a string (',' or ';' between
    several) or a list."""
    if isinstance(value, str):
        return [url for url in re.split("[;,]", value) if url.strip()]
    if isinstance(value, (list, tuple)):
        return [url for url in value if isinstance(url, str)]
    return []


def _shared_caches(own: tuple) -> list[str]:
    caches = getattr(django_settings, "CACHES", {}) or {}
    return [
        alias
        for alias, config in caches.items()
        if config.get("BACKEND") in REDIS_CACHE_BACKENDS
        and any(redis_address(url) == own for url in _urls(config.get("LOCATION")))
    ]


def _broker_urls() -> list[str]:
    """The Celery broker's Redis URLs (settings of the usual CELERY namespace, or old-style)."""
    urls: list[str] = []
    for name in ("CELERY_BROKER_URL", "BROKER_URL"):
        urls += _urls(getattr(django_settings, name, None))
    return [url for url in urls if url.strip().startswith(("redis://", "rediss://"))]


def _shares(what: str, own: tuple) -> str:
    if settings.REDIS_URL:
        return f"DJINSIGHT_REDIS_URL names the Redis database of {what} ({shown(own)})."
    return (
        "DJINSIGHT_REDIS_URL is not set, so djinsight records views in the Redis database "
        f"of {what} ({shown(own)})."
    )


def check_shared(url: str) -> list[checks.CheckMessage]:
    own = redis_address(url)
    if own is None:
        return []
    found: list[checks.CheckMessage] = [
        checks.Warning(
            _shares(f"CACHES[{alias!r}]", own),
            hint=(
                "cache.clear() empties that whole database (FLUSHDB), views not yet flushed "
                "included, and caches often run with an eviction policy. " + OWN_REDIS
            ),
            id="djinsight.W002",
        )
        for alias in _shared_caches(own)
    ]
    if any(redis_address(url) == own for url in _broker_urls()):
        found.append(
            checks.Warning(
                _shares("the Celery broker", own),
                hint=(
                    "Queued tasks and buffered views then fill the same memory, and when it "
                    "is full Celery cannot queue the flush that would free it. " + OWN_REDIS
                ),
                id="djinsight.W003",
            )
        )
    return found


# -- the server itself -------------------------------------------------------------------


def server_info(url: str) -> dict | None:
    """INFO of djinsight's Redis, or None (quietly) if it does not answer in time."""
    client = redis.Redis.from_url(
        url,
        socket_timeout=SERVER_TIMEOUT,
        socket_connect_timeout=SERVER_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return client.info()
    except (redis.RedisError, OSError):
        return None
    finally:
        client.close()


def check_server(url: str) -> list[checks.CheckMessage]:
    info = server_info(url)
    if info is None:
        return []
    return judge_server(info, redis_address(url)) + check_proxy(url)


def check_proxy(url: str) -> list[checks.CheckMessage]:
    """Whether beacons suggested an undeclared reverse proxy (tracking/proxies.py)."""
    if settings.TRUSTED_PROXIES is not None or settings.IP_META_KEY != "REMOTE_ADDR":
        return []
    client = redis.Redis.from_url(
        url, socket_timeout=SERVER_TIMEOUT, socket_connect_timeout=SERVER_TIMEOUT
    )
    try:
        mark = client.get(proxy_suspected())
    except (redis.RedisError, OSError):
        return []
    finally:
        client.close()
    if mark is None:
        return []
    text = mark.decode(errors="replace") if isinstance(mark, bytes) else str(mark)
    _when, _, remote = text.partition(" ")
    return [
        checks.Warning(
            f"Beacons came from {remote} with X-Forwarded-For, but DJINSIGHT_TRUSTED_PROXIES "
            "is not set: every visitor seems to share your reverse proxy's address, and the "
            "inflation budgets (DJINSIGHT_RATE_LIMIT) would drop real views.",
            hint=(
                "Declare the proxy: DJINSIGHT_TRUSTED_PROXIES = 1 (the number of proxies) or "
                "a list of their networks; or, with no proxy, set DJINSIGHT_TRUSTED_PROXIES = 0. "
                "See docs/settings.md."
            ),
            id="djinsight.W007",
        )
    ]


def _older_than(version: str, minimum: tuple[int, int]) -> bool:
    parts = re.match(r"(\d+)\.(\d+)", version)
    return parts is not None and (int(parts[1]), int(parts[2])) < minimum


def judge_server(info: dict, address: tuple | None) -> list[checks.CheckMessage]:
    """What INFO of djinsight's Redis says against it: its version and eviction policy."""
    where = shown(address) if address else "djinsight's Redis"
    found: list[checks.CheckMessage] = []
    version = str(info.get("redis_version", ""))
    if _older_than(version, (6, 2)):
        found.append(
            checks.Error(
                f"The Redis server at {where} is version {version}; djinsight needs 6.2 or newer.",
                hint="The flush trims its stream by id (XTRIM MINID, Redis 6.2), so no view "
                "would ever leave Redis. Upgrade Redis (or use Valkey).",
                id="djinsight.E012",
            )
        )
    policy = info.get("maxmemory_policy")
    if policy and policy != "noeviction":
        found.append(
            checks.Warning(
                f"The Redis server at {where} has maxmemory-policy {policy!r}: "
                "when full it evicts keys.",
                hint=(
                    "Evictions lose views not yet flushed and live counters (allkeys-*) or "
                    "unique-visitor marks (volatile-*). Run djinsight on a Redis server of its "
                    "own with maxmemory-policy noeviction (the policy is per server, whatever "
                    "the database number), or set noeviction on this one. See docs/settings.md."
                ),
                id="djinsight.W001",
            )
        )
    return found
