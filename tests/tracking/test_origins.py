"""Cross-site and stale beacons are refused, and privacy signals honoured, alike by the
Django view and the WSGI fast path."""

import json
import time

import pytest
from django.test import override_settings

from djinsight.stats.figures import get_object_stats
from djinsight.tracking.fastpath import answer
from tests.testapp.models import Article
from tests.tracking.test_fastpath import beacon_body, call, django_app, environ  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["view", "fast"])
def send(request, django_app):  # noqa: F811
    """POST a beacon of ``article`` with extra META; (status, error code or None)."""
    app = django_app if request.param == "view" else answer

    def post(article, body=None, **meta):
        got = call(app, environ(body or beacon_body(article), **meta))
        code = got.json()["error"]["code"] if got.body else None
        return got.status, code

    return post


@pytest.fixture
def article():
    return Article.objects.create(title="O", slug="o")


def counted(article) -> int:
    return get_object_stats(article).total_views


@pytest.mark.parametrize(
    "meta",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "https://testserver.evil.example"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "null"},
        # the browser's word wins over an Origin that names this host
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://testserver"},
    ],
)
def test_cross_site_beacon_is_refused_with_403(send, article, redis_client, settings, meta):
    assert send(article, **meta) == (403, "cross_site")
    assert counted(article) == 0
    assert list(redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "*")) == []


@pytest.mark.parametrize(
    "meta",
    [
        {},
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_ORIGIN": "https://TestServer:8443"},  # the port is no other site
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://testserver"},
        {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "https://blog.testserver"},
        {"HTTP_SEC_FETCH_SITE": "none"},
    ],
)
def test_same_site_beacon_is_recorded(send, article, meta):
    assert send(article, **meta) == (204, None)
    assert counted(article) == 1


@override_settings(
    DJINSIGHT_ALLOWED_ORIGINS=["partner.example", "https://news.example:8443", ".friends.example"]
)
@pytest.mark.parametrize(
    "origin",
    ["https://partner.example", "https://news.example", "https://a.friends.example"],
)
def test_listed_sites_may_send_beacons(send, article, origin):
    assert send(article, HTTP_ORIGIN=origin, HTTP_SEC_FETCH_SITE="cross-site") == (204, None)
    assert send(article, HTTP_ORIGIN="https://evil.example") == (403, "cross_site")
    assert counted(article) == 1


def test_wildcard_lets_every_site_send_beacons(send, article):
    with override_settings(DJINSIGHT_ALLOWED_ORIGINS=["*"]):
        assert send(article, HTTP_ORIGIN="https://evil.example") == (204, None)


def ts_body(article, minutes_ago: float) -> bytes:
    ts = int((time.time() - minutes_ago * 60) * 1000)
    return json.dumps({"ref": json.loads(beacon_body(article))["ref"], "ts": ts}).encode()


def test_backdating_is_limited_to_ten_minutes(send, article):
    assert send(article, body=ts_body(article, 9)) == (204, None)
    assert send(article, body=ts_body(article, 11)) == (400, "invalid_timestamp")
    assert send(article, body=ts_body(article, 23 * 60)) == (400, "invalid_timestamp")
    assert send(article, body=ts_body(article, -6)) == (400, "invalid_timestamp")
    assert counted(article) == 1


def test_global_privacy_control_is_honoured_by_default(send, article, redis_client, settings):
    assert send(article, HTTP_SEC_GPC="1") == (204, None)
    assert list(redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "*")) == []
    assert send(article, HTTP_DNT="1") == (204, None)  # DNT only with DJINSIGHT_RESPECT_DNT
    assert counted(article) == 1
    with override_settings(DJINSIGHT_RESPECT_GPC=False):
        assert send(article, HTTP_SEC_GPC="1") == (204, None)
    assert counted(article) == 2
    with override_settings(DJINSIGHT_RESPECT_GPC=False, DJINSIGHT_RESPECT_DNT=True):
        assert send(article, HTTP_DNT="1") == (204, None)
    assert counted(article) == 2
