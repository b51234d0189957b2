"""System checks name the bad setting, its value and the fix."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

# MySQL's own model checks query the server's version.
pytestmark = pytest.mark.django_db


def ids(**overrides):
    with override_settings(**overrides):
        return {m.id: m for m in run_checks() if m.id.startswith("djinsight.")}


def test_default_configuration_passes():
    assert ids() == {}


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
        ("DJINSIGHT_SKIP_EDITORS", "yes", "djinsight.E012"),
    ],
)
def test_bad_setting_reported_with_value(setting, value, code):
    found = ids(**{setting: value})
    assert code in found
    assert repr(value) in found[code].msg or code == "djinsight.E011"
    assert found[code].hint


def test_missing_redis_configuration_is_an_error():
    found = ids(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
    assert "djinsight.E007" in found
    assert "DJINSIGHT_REDIS_URL" in found["djinsight.E007"].hint


def test_redis_url_taken_from_django_redis_cache():
    from djinsight.store.client import redis_url

    with override_settings(
        CACHES={
            "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://h:1/3"}
        }
    ):
        assert redis_url() == "redis://h:1/3"
    with override_settings(DJINSIGHT_REDIS_URL="redis://other:2/0"):
        assert redis_url() == "redis://other:2/0"
