"""I9: Redis down or hanging never breaks the site."""

import logging
import socket
import threading
import time

import pytest
from django.test import override_settings

from djinsight.stats.figures import get_object_stats
from djinsight.store.client import outage, reset_clients
from tests.conftest import beacon, visitor
from tests.testapp.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture(autouse=True)
def fresh_outage():
    outage.succeeded()
    yield
    outage.succeeded()
    reset_clients()


def test_redis_refusing_connections_gives_503_fast_and_logs_once(client, caplog):
    article = Article.objects.create(title="x", slug="x")
    with (
        override_settings(DJINSIGHT_REDIS_URL="redis://127.0.0.1:1/0"),
        caplog.at_level(logging.ERROR, "djinsight"),
    ):
        reset_clients()
        started = time.monotonic()
        statuses = [beacon(client, article, **visitor(k)).status_code for k in range(5)]
        elapsed = time.monotonic() - started
    assert statuses == [503] * 5
    assert elapsed < 2
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


def test_hung_redis_answers_within_timeout(client, silent_server):
    article = Article.objects.create(title="x", slug="x")
    with override_settings(DJINSIGHT_REDIS_URL=silent_server, DJINSIGHT_REDIS_TIMEOUT=0.5):
        reset_clients()
        started = time.monotonic()
        response = beacon(client, article, **visitor(1))
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert elapsed < 0.5 * 2 + 0.5


def test_page_with_tracker_renders_and_stats_fall_back_to_database(client):
    article = Article.objects.create(title="Hello", slug="hello")
    Article.objects.filter(pk=article.pk).update(total_views=42, unique_views=7)
    article.refresh_from_db()
    with override_settings(DJINSIGHT_REDIS_URL="redis://127.0.0.1:1/0"):
        reset_clients()
        response = client.get("/articles/hello/")
        stats = get_object_stats(article)
    assert response.status_code == 200
    assert b"djinsight/track" in response.content
    assert (stats.total_views, stats.unique_views) == (42, 7)


def test_redis_recovers_after_outage(client):
    article = Article.objects.create(title="x", slug="x")
    with override_settings(DJINSIGHT_REDIS_URL="redis://127.0.0.1:1/0"):
        reset_clients()
        assert beacon(client, article, **visitor(1)).status_code == 503
    reset_clients()
    outage.skip_until = 0  # the retry pause has passed
    assert beacon(client, article, **visitor(1)).status_code == 204
    assert get_object_stats(article).total_views == 1
