"""The Redis client djinsight uses, with djinsight's own timeouts, and its scripts."""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings as django_settings
from redis.exceptions import OutOfMemoryError, ResponseError

from djinsight.conf import settings
from djinsight.exceptions import ConfigurationError
from djinsight.store.scripts import Scripts

logger = logging.getLogger("djinsight")

REDIS_CACHE_BACKENDS = (
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.redis.RedisCache",
)

_clients: dict[tuple, redis.Redis] = {}
# The scripts registered with each cached client, by its connection pool, which its
# pipelines share; cleared with the clients, so no script outlives its client.
_scripts: dict[redis.ConnectionPool, Scripts] = {}
_lock = threading.Lock()


def redis_url() -> str | None:
    """DJINSIGHT_REDIS_URL, else the LOCATION of the project's Redis cache."""
    if settings.REDIS_URL:
        return settings.REDIS_URL
    cache = getattr(django_settings, "CACHES", {}).get(settings.REDIS_CACHE_ALIAS, {})
    if cache.get("BACKEND") not in REDIS_CACHE_BACKENDS:
        return None
    location = cache.get("LOCATION")
    if isinstance(location, (list, tuple)):
        location = location[0] if location else None
    if isinstance(location, str) and "," in location:
        location = location.split(",")[0]
    return location or None


def get_redis(decode_responses: bool = False) -> redis.Redis:
    """A shared client; it never blocks longer than DJINSIGHT_REDIS_TIMEOUT."""
    url = redis_url()
    if not url:
        raise ConfigurationError(
            "djinsight has no Redis: set DJINSIGHT_REDIS_URL or configure a "
            f"django-redis cache under CACHES[{settings.REDIS_CACHE_ALIAS!r}]."
        )
    timeout = settings.REDIS_TIMEOUT
    key = (url, timeout, decode_responses)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = redis.Redis.from_url(
                    url,
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                    health_check_interval=30,
                    decode_responses=decode_responses,
                )
                _scripts[client.connection_pool] = Scripts(client)
                _clients[key] = client
    return client


def scripts_for(client: redis.Redis | None = None) -> Scripts:
    """The scripts registered with ``client`` (default ``get_redis()``) or its pipeline.

    Cached with the client, so their SHAs are computed once per client; a client
    djinsight did not create gets its own, uncached.
    """
    if client is None:
        client = get_redis()
    pool = getattr(client, "connection_pool", None)
    found = _scripts.get(pool) if pool is not None else None
    return found if found is not None else Scripts(client)


def reset_clients() -> None:
    """Forget cached clients and their scripts (after settings change or fork)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _scripts.clear()


class Outage:
    """Remembers a Redis failure so it is logged once and not retried on every request."""

    retry_after = 2.0

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.last_try = 0.0

    def should_skip(self) -> bool:
        if self.down_since is None:
            return False
        if time.monotonic() - self.last_try >= self.retry_after:
            self.last_try = time.monotonic()
            return False
        return True

    def failed(self, exc: Exception) -> None:
        if self.down_since is None:
            logger.error("djinsight: Redis unavailable, views are not recorded: %s", exc)
            self.down_since = time.monotonic()
        self.last_try = time.monotonic()

    def succeeded(self) -> None:
        if self.down_since is not None:
            logger.warning(
                "djinsight: Redis is back after %.1fs", time.monotonic() - self.down_since
            )
            self.down_since = None


def out_of_memory(exc: BaseException) -> bool:
    """Whether Redis refused a command for lack of memory (maxmemory reached): an OOM
    error, which servers older than Redis 7 wrap in a script error."""
    return isinstance(exc, OutOfMemoryError) or (
        isinstance(exc, ResponseError) and "OOM command not allowed" in str(exc)
    )


class Full:
    """Remembers that Redis refused a view for lack of memory, so it is logged once.

    Unlike an outage nothing is skipped: the refusal is instant, and the view
    after the flush that frees memory is recorded. Only a recorded view ends it
    (live reads still work while Redis is full).
    """

    def __init__(self) -> None:
        self.since: float | None = None

    def refused(self, exc: Exception) -> None:
        if self.since is None:
            logger.error(
                "djinsight: Redis is full (maxmemory), views are not recorded until a flush "
                "frees memory: %s",
                exc,
            )
            self.since = time.monotonic()

    def recorded(self) -> None:
        if self.since is not None:
            logger.warning(
                "djinsight: Redis records views again after %.1fs", time.monotonic() - self.since
            )
            self.since = None


outage = Outage()
full = Full()
