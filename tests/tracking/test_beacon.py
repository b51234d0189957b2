"""The beacon endpoint: exact live counts, unique visitors, no SQL, no session."""

import time

import pytest
from django.test import override_settings

from djinsight.stats.figures import get_object_stats, get_stats
from djinsight.store.keys import Keys, ObjectName, keys_for
from tests.conftest import beacon, visitor
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db


def make_articles(n):
    return [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(n)]


def test_views_of_objects_by_visitors_counted_exactly(client):
    articles = make_articles(3)
    # visitor k views article i (k + i) times
    expected_total = {a.pk: 0 for a in articles}
    for i, article in enumerate(articles):
        for k in range(4):
            for _ in range(k + i):
                assert beacon(client, article, **visitor(k)).status_code == 204
                expected_total[article.pk] += 1
    stats = get_stats(articles)
    for i, article in enumerate(articles):
        live = stats[ObjectName.of(article)]
        assert live.total_views == expected_total[article.pk]
        # visitors who viewed at least once
        assert live.unique_views == sum(1 for k in range(4) if k + i > 0)
        assert live.views_today == expected_total[article.pk]
        assert live.views_week == expected_total[article.pk]
        assert live.views_month == expected_total[article.pk]


def test_record_makes_no_sql_query_and_no_session(client, django_assert_num_queries):
    article = make_articles(1)[0]
    from djinsight.tracking.references import sign

    ref = sign(article)
    with django_assert_num_queries(0):
        response = beacon(client, ref=ref, **visitor(1))
    assert response.status_code == 204
    assert "sessionid" not in response.cookies
    assert not response.cookies


def test_session_cookie_identifies_visitor_across_ip_changes(client):
    article = make_articles(1)[0]
    client.cookies["sessionid"] = "abc123def456ghi789"
    beacon(client, article, **visitor(1))
    beacon(client, article, **visitor(2))
    live = get_object_stats(article)
    assert (live.total_views, live.unique_views) == (2, 1)


def test_session_key_is_the_specification_name_and_never_raw(client, redis_client, settings):
    article = make_articles(1)[0]
    client.cookies["sessionid"] = "rawsessionvalue"
    beacon(client, article, **visitor(1))
    prefix = settings.DJINSIGHT_REDIS_KEY_PREFIX
    marks = list(redis_client.scan_iter(match=f"{prefix}session:*"))
    assert len(marks) == 1
    mark = marks[0].decode()
    assert mark.endswith(f":page:testapp.article:{article.pk}")
    assert "rawsessionvalue" not in mark
    assert redis_client.get(f"{prefix}counter:testapp.article:{article.pk}") is None  # unseeded
    assert redis_client.ttl(marks[0]) > 0


def test_unique_window_expires(client, redis_client):
    article = make_articles(1)[0]
    with override_settings(DJINSIGHT_REDIS_EXPIRATION=1):
        beacon(client, article, **visitor(1))
        beacon(client, article, **visitor(1))
        time.sleep(1.2)
        beacon(client, article, **visitor(1))
    live = get_object_stats(article)
    assert (live.total_views, live.unique_views) == (3, 2)


def test_uuid_primary_key_counted(client):
    product = Product.objects.create(name="Lamp")
    for k in range(3):
        assert beacon(client, product, **visitor(k)).status_code == 204
    live = get_object_stats(product)
    assert (live.total_views, live.unique_views) == (3, 3)


def test_raw_ip_never_reaches_redis(client, redis_client):
    article = make_articles(1)[0]
    beacon(client, article, REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="Mozilla/5.0 (X11) x")
    entries = redis_client.xrange(keys_for(ObjectName.of(article)).stream)
    assert len(entries) == 1
    fields = {k.decode(): v.decode() for k, v in entries[0][1].items()}
    assert fields["ip"] == "203.0.113.0"
    assert "203.0.113.77" not in str(entries)


def test_tracking_disabled_writes_nothing(client, redis_client):
    article = make_articles(1)[0]
    with override_settings(DJINSIGHT_ENABLE_TRACKING=False):
        assert beacon(client, article, **visitor(1)).status_code == 204
    assert redis_client.xlen(Keys(0).stream) == 0
    assert get_object_stats(article).total_views == 0


def test_do_not_track_honoured_when_configured(client):
    article = make_articles(1)[0]
    beacon(client, article, HTTP_DNT="1", **visitor(1))
    with override_settings(DJINSIGHT_RESPECT_DNT=True):
        beacon(client, article, HTTP_DNT="1", **visitor(2))
        beacon(client, article, HTTP_SEC_GPC="1", **visitor(3))
    assert get_object_stats(article).total_views == 1


def test_beacon_and_live_endpoint_need_no_csrf_token():
    from django.test import Client

    from djinsight.tracking.references import sign

    article = make_articles(1)[0]
    strict = Client(enforce_csrf_checks=True)
    assert beacon(strict, article).status_code == 204
    live = strict.post(
        "/djInsight/live/", {"refs": [sign(article)]}, content_type="application/json"
    )
    assert live.status_code == 200
    assert live.json()["stats"][sign(article)]["total_views"] == 1
