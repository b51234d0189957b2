"""System checks name the bad setting, its value and the fix."""

import socket
import time

import pytest
import redis
from django.core.checks import run_checks
from django.test import override_settings

from djinsight.checks import judge_server

# MySQL's own model checks query the server's version.
pytestmark = pytest.mark.django_db


def ids(**overrides):
    with override_settings(**overrides):
        return {m.id: m for m in run_checks() if m.id.startswith("djinsight.")}


def sharing_ids(**overrides):
    """The W002/W003 findings alone: the other checks judge whichever server a URL names."""
    found = ids(**overrides)
    return {i: m for i, m in found.items() if i in ("djinsight.W002", "djinsight.W003")}


def test_default_configuration_passes():
    assert ids() == {}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DJINSIGHT_TRUSTED_PROXIES", 0),
        ("DJINSIGHT_TRUSTED_PROXIES", 2),
        ("DJINSIGHT_TRUSTED_PROXIES", ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]),
        ("DJINSIGHT_RATE_LIMIT", None),
        ("DJINSIGHT_RATE_LIMIT", 30),
        ("DJINSIGHT_RATE_LIMIT", {"views": 30, "visitors": None}),
        ("DJINSIGHT_ALLOWED_ORIGINS", [".example.com", "https://blog.example.org"]),
        ("DJINSIGHT_RESPECT_GPC", False),
    ],
)
def test_good_values_of_the_new_settings_pass(setting, value):
    assert ids(**{setting: value}) == {}


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("DJINSIGHT_ENABLE_TRACKING", "yes", "djinsight.E001"),
        ("DJINSIGHT_REDIS_KEY_PREFIX", "", "djinsight.E002"),
        ("DJINSIGHT_REDIS_KEY_PREFIX", "a{b}", "djinsight.E002"),
        ("DJINSIGHT_CLEANUP_DAYS", 0, "djinsight.E003"),
        ("DJINSIGHT_CLEANUP_DAYS", "90", "djinsight.E003"),
        ("DJINSIGHT_BATCH_SIZE", -5, "djinsight.E004"),
        ("DJINSIGHT_REDIS_TIMEOUT", 0, "djinsight.E005"),
        ("DJINSIGHT_REDIS_EXPIRATION", 1.5, "djinsight.E006"),
        ("DJINSIGHT_BUFFER_SHARDS", 0, "djinsight.E008"),
        ("DJINSIGHT_REDIS_URL", "http://localhost", "djinsight.E011"),
        ("DJINSIGHT_UNIQUE_EXACT_LIMIT", -1, "djinsight.E013"),
        ("DJINSIGHT_UNIQUE_EXACT_LIMIT", "1000", "djinsight.E013"),
        ("DJINSIGHT_UNIQUE_EXACT_LIMIT", True, "djinsight.E013"),
        ("DJINSIGHT_TRUSTED_PROXIES", -1, "djinsight.E017"),
        ("DJINSIGHT_TRUSTED_PROXIES", "10.0.0.0/8", "djinsight.E017"),
        ("DJINSIGHT_TRUSTED_PROXIES", ["10.0.0.0/33"], "djinsight.E017"),
        ("DJINSIGHT_TRUSTED_PROXIES", True, "djinsight.E017"),
        ("DJINSIGHT_RATE_LIMIT", {"view": 30}, "djinsight.E018"),
        ("DJINSIGHT_RATE_LIMIT", {"views": -1}, "djinsight.E018"),
        ("DJINSIGHT_RATE_LIMIT", "30/m", "djinsight.E018"),
        ("DJINSIGHT_ALLOWED_ORIGINS", "example.com", "djinsight.E019"),
        ("DJINSIGHT_ALLOWED_ORIGINS", [""], "djinsight.E019"),
        ("DJINSIGHT_RESPECT_GPC", "yes", "djinsight.E020"),
        ("DJINSIGHT_COUNT_BOTS", "no", "djinsight.E015"),
        ("DJINSIGHT_COUNT_BOTS", 0, "djinsight.E015"),
        ("DJINSIGHT_SKIP_EDITORS", "yes", "djinsight.E016"),
    ],
)
def test_bad_setting_reported_with_value(setting, value, code):
    found = ids(**{setting: value})
    assert code in found
    assert repr(value) in found[code].msg or code == "djinsight.E011"
    assert found[code].hint


def test_missing_redis_configuration_is_an_error():
    found = ids(
        DJINSIGHT_REDIS_URL=None,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    )
    assert "djinsight.E007" in found
    assert "DJINSIGHT_REDIS_URL" in found["djinsight.E007"].hint


def test_redis_url_taken_from_django_redis_cache():
    from djinsight.store.client import redis_url

    with override_settings(
        DJINSIGHT_REDIS_URL=None,
        CACHES={
            "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://h:1/3"}
        },
    ):
        assert redis_url() == "redis://h:1/3"
    with override_settings(DJINSIGHT_REDIS_URL="redis://other:2/0"):
        assert redis_url() == "redis://other:2/0"


# -- djinsight's Redis: a server and database of its own, that never evicts ------------

QUICK_START = {  # the specification's Quick Start: djinsight takes the cache's Redis
    "DJINSIGHT_REDIS_URL": None,
    "CACHES": {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    },
    "CELERY_BROKER_URL": "redis://localhost:6379/0",
}


def test_quick_start_warns_that_djinsight_shares_the_cache_database():
    found = sharing_ids(**QUICK_START)
    assert set(found) == {"djinsight.W002"}
    assert "DJINSIGHT_REDIS_URL is not set" in found["djinsight.W002"].msg
    assert "CACHES['default'] (127.0.0.1:6379 db 1)" in found["djinsight.W002"].msg
    assert "FLUSHDB" in found["djinsight.W002"].hint
    assert "DJINSIGHT_REDIS_URL" in found["djinsight.W002"].hint


@pytest.mark.parametrize(
    ("backend", "location"),
    [
        ("django_redis.cache.RedisCache", "redis://localhost:6379/4"),
        ("django_redis.cache.RedisCache", ["redis://replica:6379/4", "redis://127.0.0.1/4"]),
        ("django.core.cache.backends.redis.RedisCache", "redis://a:1/0;redis://127.0.0.1/?db=4"),
    ],
)
def test_a_redis_cache_on_djinsights_server_and_database_is_reported(backend, location):
    found = sharing_ids(
        DJINSIGHT_REDIS_URL="redis://127.0.0.1:6379/4",
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "pages": {"BACKEND": backend, "LOCATION": location},
        },
    )
    assert set(found) == {"djinsight.W002"}
    assert found["djinsight.W002"].msg.startswith(
        "DJINSIGHT_REDIS_URL names the Redis database of CACHES['pages'] (127.0.0.1:6379 db 4)"
    )


@pytest.mark.parametrize(
    "location",
    ["redis://127.0.0.1:6379/5", "redis://127.0.0.1:6380/4", "redis://cache.internal:6379/4"],
)
def test_a_cache_on_another_database_or_server_is_not_reported(location):
    found = sharing_ids(
        DJINSIGHT_REDIS_URL="redis://127.0.0.1:6379/4",
        CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": location}},
    )
    assert found == {}


@pytest.mark.parametrize(
    ("setting", "broker", "reported"),
    [
        ("CELERY_BROKER_URL", "redis://localhost:6379/4", True),
        ("BROKER_URL", "redis://127.0.0.1/4", True),
        ("CELERY_BROKER_URL", "redis://:secret@127.0.0.1:6379/4", True),
        ("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3", False),
        ("CELERY_BROKER_URL", "amqp://guest@127.0.0.1:5672//", False),
    ],
)
def test_a_celery_broker_in_djinsights_database_is_reported(setting, broker, reported):
    brokers = {"CELERY_BROKER_URL": None, setting: broker}
    found = sharing_ids(DJINSIGHT_REDIS_URL="redis://127.0.0.1:6379/4", **brokers)
    assert set(found) == ({"djinsight.W003"} if reported else set())
    if reported:
        assert "Celery broker (127.0.0.1:6379 db 4)" in found["djinsight.W003"].msg
        assert "secret" not in found["djinsight.W003"].msg


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-ttl", "noeviction"])
def test_an_eviction_policy_other_than_noeviction_is_reported(own_redis, policy):
    url, _restart = own_redis
    redis.Redis.from_url(url).config_set("maxmemory-policy", policy)
    found = ids(DJINSIGHT_REDIS_URL=url)
    if policy == "noeviction":
        assert found == {}
    else:
        assert set(found) == {"djinsight.W001"}
        assert repr(policy) in found["djinsight.W001"].msg
        assert "server of its own" in found["djinsight.W001"].hint


@pytest.fixture
def hung_redis():
    """A port whose connections are accepted by the kernel and never answered."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


@pytest.mark.parametrize("where", ["refused", "hung"])
def test_checks_pass_quickly_when_redis_does_not_answer(where, hung_redis):
    url = hung_redis if where == "hung" else "redis://127.0.0.1:1/0"
    started = time.monotonic()
    found = ids(DJINSIGHT_REDIS_URL=url)
    assert found == {}
    assert time.monotonic() - started < 1.5


def test_a_redis_older_than_6_2_is_an_error():
    info = {"redis_version": "6.0.20", "maxmemory_policy": "noeviction"}
    (error,) = judge_server(info, ("127.0.0.1", 6379, 0))
    assert error.id == "djinsight.E012"
    assert "6.0.20" in error.msg
    assert judge_server({"redis_version": "6.2.14"}, None) == []
    assert judge_server({"redis_version": "7.0.15"}, None) == []


@pytest.mark.parametrize("value", [0, -0.25, "0.25", True, None, 250, float("inf")])
def test_bad_read_timeout_is_e014(value):
    found = ids(DJINSIGHT_READ_TIMEOUT=value)
    assert set(found) == {"djinsight.E014"}
    assert repr(value) in found["djinsight.E014"].msg
    assert "DJINSIGHT_READ_TIMEOUT" in found["djinsight.E014"].msg


@pytest.mark.parametrize("value", [0.05, 0.25, 1, 60])
def test_good_read_timeouts_pass(value):
    assert ids(DJINSIGHT_READ_TIMEOUT=value) == {}
