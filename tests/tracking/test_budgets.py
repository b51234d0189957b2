"""Inflation budgets (DJINSIGHT_RATE_LIMIT): views past them are not counted anywhere,
only in the ``capped`` figure, and the beacon still answers 204."""

import logging
import time

import pytest
from django.core.management import call_command
from django.test import override_settings

from djinsight.checks import check_deprecated, check_proxy
from djinsight.stats.figures import get_object_stats
from djinsight.stats.inspection import capped_views
from djinsight.store.keys import Keys
from djinsight.tracking import proxies
from djinsight.tracking.fastpath import answer
from djinsight.tracking.identity import client_ip
from tests.testapp.models import Article
from tests.tracking.test_fastpath import beacon_body, call, django_app, environ  # noqa: F401

pytestmark = pytest.mark.django_db

BUDGETS = {"views": 30, "visitors": 60}


@pytest.fixture(autouse=True)
def fresh_minute():
    """Budgets are per minute of the server's clock: start well inside one."""
    if time.time() % 60 > 45:
        time.sleep(60.5 - time.time() % 60)
    proxies.reset()
    yield
    proxies.reset()


def make_articles(n: int) -> list[Article]:
    return [Article.objects.create(title=f"B{i}", slug=f"b{i}") for i in range(n)]


def send(article, app=answer, **meta) -> int:
    return call(app, environ(beacon_body(article), **meta)).status


def counted(article) -> tuple[int, int]:
    stats = get_object_stats(article)
    return stats.total_views, stats.unique_views


def buffered(redis_client) -> int:
    return sum(redis_client.xlen(Keys(shard).stream) for shard in range(4))


@override_settings(DJINSIGHT_RATE_LIMIT=BUDGETS)
def test_a_thousand_beacons_from_one_network_count_at_most_the_budget(redis_client):
    (article,) = make_articles(1)
    for n in range(1000):
        meta = {
            "REMOTE_ADDR": f"198.51.100.{n % 256}",
            "HTTP_USER_AGENT": f"Mozilla/5.0 (X11) agent-{n}",
            "HTTP_COOKIE": f"sessionid=invented-{n}",
        }
        assert send(article, **meta) == 204  # an attacker learns nothing
    assert counted(article) == (30, 30)
    assert buffered(redis_client) == 30  # no stream entry for a capped view
    assert capped_views().views == 970 and capped_views().total == 970


@override_settings(DJINSIGHT_RATE_LIMIT={"views": 1000, "visitors": 60})
def test_new_visitors_per_network_are_budgeted_across_objects(redis_client):
    articles = make_articles(4)
    for n in range(200):
        meta = {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": f"Mozilla/5.0 (X11) agent-{n}"}
        assert send(articles[n % 4], **meta) == 204
    assert sum(counted(a)[1] for a in articles) == 60
    assert sum(counted(a)[0] for a in articles) == 60
    assert capped_views().visitors == 140
    # a visitor counted already goes on counting: it is not new
    known = {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "Mozilla/5.0 (X11) agent-0"}
    assert send(articles[0], **known) == 204
    assert counted(articles[0]) == (16, 15)


@override_settings(DJINSIGHT_RATE_LIMIT=BUDGETS)
def test_two_networks_have_budgets_of_their_own(django_app):  # noqa: F811
    (article,) = make_articles(1)
    for n in range(100):
        for network in ("198.51.100", "203.0.113", "2001:db8:1:"):
            sep = ":" if network.endswith(":") else "."
            remote = f"{network}{sep}{n + 1}"
            # through the Django view too: the same budgets
            app = django_app if n % 2 else answer
            assert (
                send(article, app, REMOTE_ADDR=remote, HTTP_USER_AGENT=f"Mozilla/5.0 (X11) a{n}")
                == 204
            )
    assert counted(article) == (90, 90)
    assert capped_views().total == 210


def test_no_rate_limit_counts_every_view(redis_client):
    (article,) = make_articles(1)
    for n in range(300):
        assert (
            send(
                article, REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=f"Mozilla/5.0 (X11) agent-{n}"
            )
            == 204
        )
    assert counted(article) == (300, 300)
    assert capped_views().total == 0


@override_settings(DJINSIGHT_RATE_LIMIT={"views": 5, "visitors": None})
def test_budget_keys_expire(redis_client, settings):
    (article,) = make_articles(1)
    for _ in range(8):
        send(article, REMOTE_ADDR="198.51.100.7")
    budget = list(redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "budget*"))
    assert len(budget) == 1 and 0 < redis_client.ttl(budget[0]) <= 120
    (capped,) = redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "capped:*")
    assert redis_client.hgetall(capped) == {b"views": b"3"}
    assert 0 < redis_client.ttl(capped) <= 8 * 86400


@override_settings(DJINSIGHT_RATE_LIMIT={"views": 2})
def test_analyze_redis_shows_the_capped_figure(capsys):
    (article,) = make_articles(1)
    for _ in range(5):
        send(article, REMOTE_ADDR="198.51.100.7")
    call_command("analyze_redis")
    out = capsys.readouterr().out
    assert "Capped views (past DJINSIGHT_RATE_LIMIT, not counted), last 7 days: 3 (3 past" in out


def test_an_undeclared_proxy_is_warned_about_once(caplog, settings):
    (article,) = make_articles(1)
    with caplog.at_level(logging.WARNING, logger="djinsight"):
        for n in range(proxies.SUSPECT_AFTER + 20):
            meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"198.51.100.{n % 250}"}
            assert send(article, **meta) == 204
    warnings = [r for r in caplog.records if "DJINSIGHT_TRUSTED_PROXIES is not set" in r.message]
    assert len(warnings) == 1
    (found,) = check_proxy(settings.DJINSIGHT_REDIS_URL)
    assert found.id == "djinsight.W007" and "127.0.0.1" in found.msg
    with override_settings(DJINSIGHT_TRUSTED_PROXIES=1):
        assert check_proxy(settings.DJINSIGHT_REDIS_URL) == []


def test_forwarded_for_from_a_public_address_raises_no_suspicion(caplog, settings):
    (article,) = make_articles(1)
    with caplog.at_level(logging.WARNING, logger="djinsight"):
        for n in range(proxies.SUSPECT_AFTER + 5):
            # 203.0.113.0/24 counts as private (documentation), so a real public address
            meta = {"REMOTE_ADDR": "93.184.216.34", "HTTP_X_FORWARDED_FOR": f"6.6.6.{n}"}
            send(article, **meta)
    assert "TRUSTED_PROXIES" not in caplog.text
    assert check_proxy(settings.DJINSIGHT_REDIS_URL) == []


def test_deprecated_ip_meta_key_is_a_warning_that_names_the_new_setting():
    assert check_deprecated() == []
    with override_settings(DJINSIGHT_IP_META_KEY="HTTP_X_REAL_IP"):
        (found,) = check_deprecated()
        assert found.id == "djinsight.W006" and "'HTTP_X_REAL_IP'" in found.msg
        assert "DJINSIGHT_TRUSTED_PROXIES" in found.hint


def test_a_malformed_address_is_never_stored(redis_client):
    (article,) = make_articles(1)
    assert send(article, REMOTE_ADDR="not-an-ip") == 204
    ((_, fields),) = [e for shard in range(4) for e in redis_client.xrange(Keys(shard).stream)]
    assert fields[b"ip"] == b""
    assert client_ip(type("R", (), {"META": {"REMOTE_ADDR": "not-an-ip"}})()) == ""


@override_settings(DJINSIGHT_RATE_LIMIT={"views": 10})
def test_a_bot_flood_is_capped_by_the_views_budget_too(redis_client):
    (article,) = make_articles(1)
    for _ in range(50):
        assert send(article, REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="curl/8.5.0") == 204
    assert buffered(redis_client) == 10  # bot entries: kept apart, and bounded
    assert counted(article) == (0, 0)
    assert capped_views().views == 40
