"""The Redis client djinsight uses, with djinsight's own timeouts, and its scripts."""

from __future__ import annotations

import logging
import socket
import threading
import time

import redis
from django.conf import settings as django_settings
from redis.backoff import NoBackoff
from redis.exceptions import OutOfMemoryError, ResponseError
from redis.retry import Retry

from djinsight.conf import settings
from djinsight.exceptions import ConfigurationError
from djinsight.store.scripts import Scripts, Unreachable

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
    return _client(settings.REDIS_TIMEOUT, decode_responses, retries=0)


def read_redis() -> redis.Redis:
    """The shared client of live reads (template tags, the live endpoint, the API's
    figures): it waits at most DJINSIGHT_READ_TIMEOUT, so a hanging Redis cannot
    hold a page, and repeats a command once on a new connection after a connection
    error (reads change nothing, so repeating one is always safe)."""
    return _client(settings.READ_TIMEOUT, False, retries=1)


def _client(timeout: float, decode_responses: bool, retries: int) -> redis.Redis:
    url = redis_url()
    if not url:
        raise ConfigurationError(
            "djinsight has no Redis: set DJINSIGHT_REDIS_URL or configure a "
            f"django-redis cache under CACHES[{settings.REDIS_CACHE_ALIAS!r}]."
        )
    key = (url, timeout, decode_responses, retries)
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
                    # A timeout is never repeated: it already took the whole budget.
                    retry=Retry(NoBackoff(), retries, supported_errors=(redis.ConnectionError,)),
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
    """Redis failures of one kind of call in this process (recording views; live
    reads): calls are skipped for ``retry_after`` seconds, so that a dead or hanging
    Redis costs almost nothing, but only once Redis itself looks down.

    Redis looks down when nobody listens at its address (connection refused, no
    such host), when it could not be reached on a new connection either
    (``scripts.Unreachable``: connecting failed twice, or timed out), or when it
    did not answer in time ``threshold`` calls in a row. A connection that died
    with a command in flight (a restart, a failover, ``CLIENT KILL``, an idle
    timeout) costs that one command and nothing more: the next call gets a new
    connection. While skipping, one call every ``retry_after`` seconds tries
    Redis again. The outage is logged once as an error when calls start being
    skipped; other failures as a warning at most once per ``quiet_for`` seconds.
    """

    retry_after = 2.0
    threshold = 2
    quiet_for = 60.0

    def __init__(self, what: str = "views are not recorded") -> None:
        self.what = what
        self.reset()

    def reset(self) -> None:
        """Forget every failure, quietly (tests; a new Redis)."""
        self.failures = 0  # in a row
        self.down_since: float | None = None  # calls are skipped since
        self.skip_until = 0.0
        self.last_warning: float | None = None
        self.unlogged = 0  # single failures since the last warning

    def should_skip(self) -> bool:
        if self.down_since is None:
            return False
        now = time.monotonic()
        if now < self.skip_until:
            return True
        self.skip_until = now + self.retry_after  # this call tries; the others still skip
        return False

    def failed(self, exc: Exception) -> None:
        self.failures += self.strikes(exc)
        now = time.monotonic()
        if self.failures < self.threshold:
            self._warn(exc, now)
            return
        if self.down_since is None:
            logger.error("djinsight: Redis unavailable, %s: %s", self.what, exc)
            self.down_since = now
        self.skip_until = now + self.retry_after

    def strikes(self, exc: Exception) -> int:
        """How much ``exc`` says that Redis is down (``threshold``: it is)."""
        if isinstance(exc, Unreachable) or refused(exc):
            return self.threshold
        if isinstance(exc, redis.ConnectionError):  # one connection died, in flight
            return 0
        return 1  # a timeout, an error reply, no Redis configured

    def _warn(self, exc: Exception, now: float) -> None:
        self.unlogged += 1
        if self.last_warning is None or now - self.last_warning >= self.quiet_for:
            logger.warning(
                "djinsight: a Redis call failed (%d since the last such warning); "
                "the next one uses a new connection: %s",
                self.unlogged,
                exc,
            )
            self.last_warning, self.unlogged = now, 0

    def succeeded(self) -> None:
        self.failures = 0
        if self.down_since is not None:
            logger.warning(
                "djinsight: Redis is back after %.1fs", time.monotonic() - self.down_since
            )
            self.down_since = None
            self.skip_until = 0.0


def refused(exc: BaseException | None) -> bool:
    """Whether connecting found nobody at Redis's address (refused, or no such host)."""
    while exc is not None:
        if isinstance(exc, (ConnectionRefusedError, socket.gaierror)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


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


outage = Outage()  # recording views (the beacon) and deletions
read_outage = Outage("live figures come from the database")  # read_redis() callers
full = Full()
