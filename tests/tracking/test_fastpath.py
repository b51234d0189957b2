"""The WSGI fast path answers the beacon exactly as the Django view does, before any middleware.

Requests are real WSGI environs passed to the real WSGI callables: Django's
``WSGIHandler`` alone (the plain endpoint) and ``BeaconMiddleware`` around it;
one test runs the middleware under a real HTTP server on loopback.
"""

import http.client
import io
import json
import logging
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.util import setup_testing_defaults

import pytest
import redis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.urls import include, path

from djinsight.signals import view_recorded
from djinsight.stats.figures import get_object_stats
from djinsight.store.client import outage, reset_clients
from djinsight.tracking.fastpath import BeaconMiddleware
from djinsight.tracking.references import sign
from tests.testapp.models import Article, Untracked
from tests.testapp.views import article_list
from tests.tracking.test_bad_input import CASES

pytestmark = pytest.mark.django_db

URL = "/djInsight/record/"  # where tests/urls.py mounts djinsight.urls


def environ(body: bytes = b"", method: str = "POST", path: str = URL, **extra) -> dict:
    env = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11) agent-1",
        "CONTENT_TYPE": "text/plain;charset=UTF-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    env.update(extra)
    setup_testing_defaults(env)
    return env


class Answer:
    def __init__(self, status: str, headers: list, body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = dict(headers)
        self.header_names = [name.lower() for name, _ in headers]
        self.body = body

    def json(self):
        return json.loads(self.body)


def call(app, env: dict) -> Answer:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=headers)

    result = app(env, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return Answer(seen["status"], seen["headers"], body)


@pytest.fixture
def django_app():
    """Django's real WSGI handler; like the test client, it keeps the test's DB connection open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def passed(django_app):
    """Requests the fast path handed on to Django."""
    return []


@pytest.fixture
def fast_app(django_app, passed):
    def spy(env, start_response):
        passed.append(env["PATH_INFO"])
        return django_app(env, start_response)

    return BeaconMiddleware(spy)


@pytest.fixture
def article():
    return Article.objects.create(title="Fast", slug="fast")


def beacon_body(article, **fields) -> bytes:
    return json.dumps({"ref": sign(article), "url": "/x/", "referrer": "", **fields}).encode()


def redis_snapshot(redis_client, prefix: str) -> dict:
    """Every key under this run's prefix with its value (stream ids left out: they are times)."""
    snapshot = {}
    for key in sorted(redis_client.scan_iter(match=prefix + "*")):
        kind = redis_client.type(key).decode()
        if kind == "string":
            value = (redis_client.get(key), redis_client.ttl(key) > 0)
        elif kind == "hash":
            value = redis_client.hgetall(key)
        elif kind == "stream":
            value = [fields for _id, fields in redis_client.xrange(key)]
        elif kind == "zset":
            value = redis_client.zrange(key, 0, -1, withscores=True)
        else:
            value = kind
        snapshot[key.decode()] = value
    return snapshot


def wipe(redis_client, prefix: str) -> None:
    keys = list(redis_client.scan_iter(match=prefix + "*"))
    if keys:
        redis_client.delete(*keys)


@pytest.mark.parametrize("cookie", ["", "sessionid=abc123def456"], ids=["cookieless", "session"])
def test_fast_path_writes_exactly_what_the_django_view_writes(
    django_app, fast_app, passed, article, redis_client, settings, cookie
):
    prefix = settings.DJINSIGHT_REDIS_KEY_PREFIX
    body = beacon_body(
        article, ts=int(time.time() * 1000) - 60_000, referrer="https://example.com/a"
    )
    headers = {"HTTP_COOKIE": cookie, "HTTP_X_EXTRA": "1"}

    assert call(django_app, environ(body, **headers)).status == 204
    via_django = redis_snapshot(redis_client, prefix)
    wipe(redis_client, prefix)
    answer = call(fast_app, environ(body, **headers))
    via_fast_path = redis_snapshot(redis_client, prefix)

    assert answer.status == 204
    assert passed == []
    assert len(via_django) >= 5  # mark, stats, stream, pending, objects
    assert via_fast_path == via_django
    live = get_object_stats(article)
    assert (live.total_views, live.unique_views, live.views_today) == (1, 1, 1)


@pytest.mark.parametrize(("label", "make", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_beacon_gets_the_same_json_error_as_the_django_view(
    django_app, fast_app, passed, article, redis_client, settings, label, make, status, code
):
    Untracked.objects.create(name="u")
    made = make(sign(article))
    body = made if isinstance(made, bytes) else json.dumps(made).encode()

    expected = call(django_app, environ(body, CONTENT_TYPE="application/json"))
    answer = call(fast_app, environ(body, CONTENT_TYPE="application/json"))

    assert (answer.status, expected.status) == (status, status)
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]["code"] == code
    assert answer.json() == expected.json()
    assert passed == []
    assert list(redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "*")) == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405_json_as_from_the_django_view(django_app, fast_app, passed, method):
    expected = call(django_app, environ(method=method))
    answer = call(fast_app, environ(method=method))
    assert (answer.status, expected.status) == (405, 405)
    assert (
        answer.json()
        == expected.json()
        == {"error": {"code": "method_not_allowed", "message": "use POST"}}
    )
    assert answer.headers["Allow"] == expected.headers["Allow"] == "POST"
    assert passed == []


def test_deleted_object_is_410_json_as_from_the_django_view(
    django_app, fast_app, passed, article, django_capture_on_commit_callbacks
):
    body = beacon_body(article)
    with django_capture_on_commit_callbacks(execute=True):
        article.delete()
    expected = call(django_app, environ(body))
    answer = call(fast_app, environ(body))
    assert (answer.status, expected.status) == (410, 410)
    assert answer.json() == expected.json()
    assert answer.json()["error"]["code"] == "object_deleted"
    assert passed == []


def test_declared_oversized_body_is_refused_without_reading_it(fast_app):
    env = environ(b"{}", CONTENT_LENGTH="101")
    with override_settings(DJINSIGHT_MAX_BODY_BYTES=100):
        answer = call(fast_app, env)
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "body_too_large"
    assert env["wsgi.input"].tell() == 0
    assert call(fast_app, environ(b"{}", CONTENT_LENGTH="-5")).status == 413


def test_records_with_no_sql_query_and_no_cookie(fast_app, article, django_assert_num_queries):
    body = beacon_body(article)
    with django_assert_num_queries(0):
        answer = call(fast_app, environ(body))
        with_session = call(fast_app, environ(body, HTTP_COOKIE="sessionid=abc; csrftoken=x"))
    assert (answer.status, with_session.status) == (204, 204)
    assert "set-cookie" not in answer.header_names + with_session.header_names
    assert answer.body == b""
    assert get_object_stats(article).total_views == 2


def test_other_requests_pass_through_to_django(fast_app, passed, article):
    page = call(fast_app, environ(method="GET", path="/articles/"))
    assert page.status == 200
    assert b"Fast" in page.body
    live = call(fast_app, environ(b'{"refs": []}', path="/djInsight/live/"))
    assert live.status == 400  # the live endpoint's own answer
    preflight = call(fast_app, environ(method="OPTIONS"))
    assert preflight.status == 405  # Django answers: the view takes POST only
    assert "POST" in preflight.headers["Allow"]
    assert passed == ["/articles/", "/djInsight/live/", URL]


def test_beacon_path_comes_from_the_urlconf_and_respects_script_name(fast_app, passed, article):
    mounted = call(fast_app, environ(beacon_body(article), SCRIPT_NAME="/site"))
    assert mounted.status == 204
    elsewhere = call(fast_app, environ(beacon_body(article), path="/djinsight/record/"))
    assert elsewhere.status == 404  # not where djinsight.urls is mounted: Django answers
    assert passed == ["/djinsight/record/"]
    assert get_object_stats(article).total_views == 1


class MountedElsewhere:
    urlpatterns = [path("beacons/here/", include("djinsight.urls"))]


class NotMounted:
    urlpatterns = [path("articles/", article_list)]


def test_beacon_path_follows_wherever_djinsight_urls_is_mounted(django_app, passed, article):
    with override_settings(ROOT_URLCONF=MountedElsewhere):
        app = BeaconMiddleware(django_app)
        answer = call(app, environ(beacon_body(article), path="/beacons/here/record/"))
    assert answer.status == 204
    assert get_object_stats(article).total_views == 1


def test_unmounted_urls_pass_everything_to_django(django_app, article, caplog):
    with override_settings(ROOT_URLCONF=NotMounted), caplog.at_level(logging.WARNING, "djinsight"):
        app = BeaconMiddleware(django_app)
        answer = call(app, environ(beacon_body(article)))
        page = call(app, environ(method="GET", path="/articles/"))
    assert (answer.status, page.status) == (404, 200)  # Django answered both
    assert "djinsight:record" in caplog.text


def test_tracking_off_and_do_not_track_record_nothing(fast_app, article, redis_client, settings):
    with override_settings(DJINSIGHT_ENABLE_TRACKING=False):
        assert call(fast_app, environ(beacon_body(article))).status == 204
    with override_settings(DJINSIGHT_RESPECT_DNT=True):
        assert call(fast_app, environ(beacon_body(article), HTTP_DNT="1")).status == 204
        assert call(fast_app, environ(beacon_body(article), HTTP_SEC_GPC="1")).status == 204
    assert list(redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "*")) == []
    assert call(fast_app, environ(beacon_body(article), HTTP_DNT="1")).status == 204
    assert get_object_stats(article).total_views == 1  # DNT ignored unless configured


def test_redis_down_gives_503_json_fast(fast_app, article):
    outage.succeeded()
    try:
        with override_settings(DJINSIGHT_REDIS_URL="redis://127.0.0.1:1/0"):
            reset_clients()
            started = time.monotonic()
            answers = [call(fast_app, environ(beacon_body(article))) for _ in range(3)]
            elapsed = time.monotonic() - started
    finally:
        outage.succeeded()
        reset_clients()
    assert [a.status for a in answers] == [503] * 3
    assert answers[0].json()["error"]["code"] == "unavailable"
    assert elapsed < 2


def test_view_recorded_signal_is_sent(fast_app, article):
    received = []

    def receiver(sender, name, unique, request, **kwargs):
        received.append((str(name), unique, request.META["HTTP_USER_AGENT"]))

    view_recorded.connect(receiver)
    try:
        call(fast_app, environ(beacon_body(article)))
        call(fast_app, environ(beacon_body(article)))
    finally:
        view_recorded.disconnect(receiver)
    name = f"testapp.article:{article.pk}"
    agent = "Mozilla/5.0 (X11) agent-1"
    assert received == [(name, True, agent), (name, False, agent)]


def test_host_outside_allowed_hosts_is_refused(
    django_app, fast_app, article, redis_client, settings
):
    env = {"HTTP_HOST": "evil.example"}
    assert call(django_app, environ(beacon_body(article), **env)).status == 400
    answer = call(fast_app, environ(beacon_body(article), **env))
    assert answer.status == 400
    assert answer.json()["error"]["code"] == "disallowed_host"
    assert list(redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "*")) == []


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_fast_path_under_a_real_server_on_loopback(fast_app, passed, article, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    server = make_server("127.0.0.1", 0, fast_app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        statuses = []
        for n in range(3):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
            conn.request(
                "POST",
                URL,
                body=beacon_body(article),
                headers={
                    "Content-Type": "text/plain",
                    "User-Agent": f"Mozilla/5.0 (X11) agent-{n}",
                },
            )
            response = conn.getresponse()
            statuses.append((response.status, response.getheader("Set-Cookie"), response.read()))
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
        conn.request("GET", "/no-such-page/")
        missing = conn.getresponse().status
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert statuses == [(204, None, b"")] * 3
    assert missing == 404
    assert passed == ["/no-such-page/"]
    live = get_object_stats(article)
    assert (live.total_views, live.unique_views) == (3, 3)


def test_redis_script_flush_and_restart_cost_no_view(fast_app, article, own_redis, settings):
    url, restart = own_redis
    prefix = settings.DJINSIGHT_REDIS_KEY_PREFIX
    outage.succeeded()
    with override_settings(DJINSIGHT_REDIS_URL=url):
        reset_clients()
        server = redis.Redis.from_url(url)
        assert call(fast_app, environ(beacon_body(article))).status == 204
        server.script_flush()
        assert call(fast_app, environ(beacon_body(article))).status == 204
        restart()  # the pooled connection is now dead: the pool must replace it, not answer 503
        assert call(fast_app, environ(beacon_body(article), REMOTE_ADDR="10.0.0.2")).status == 204
        entries = sum(server.xlen(key) for key in server.scan_iter(match=prefix + "buffer:*"))
    assert entries == 1  # the restarted server (no persistence) holds exactly the last view
