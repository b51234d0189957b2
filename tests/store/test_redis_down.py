"""I9: Redis down or hanging never breaks the site."""

import logging
import signal
import socket
import subprocess
import threading
import time
from collections import Counter

import pytest
import redis
from django.test import override_settings

from djinsight.stats.figures import get_object_stats
from djinsight.store.client import Outage, outage, read_outage, reset_clients
from djinsight.store.scripts import Unreachable
from djinsight.tracking.fastpath import BeaconMiddleware
from djinsight.tracking.references import sign
from tests.conftest import FIGURES, beacon, visitor
from tests.servers import free_port, redis_server_command
from tests.testapp.models import Article
from tests.tracking.test_fastpath import beacon_body, call, environ

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


# -- connections killed under load (issue 14) ---------------------------------------------

KILL_EVERY = 0.5
LOAD_SECONDS = 5.0
LOAD_THREADS = 4


def fast_path():
    """The WSGI fast path alone: a beacon never reaches Django (nor the database)."""

    def django(environ, start_response):
        raise AssertionError(f"the fast path passed {environ['PATH_INFO']} on")

    return BeaconMiddleware(django)


def test_killed_connections_under_load_cost_under_one_percent_of_beacons(own_redis, settings):
    """``CLIENT KILL TYPE normal`` every 0.5 s while threads send beacons through the fast
    path: a killed idle connection is replaced before use, a command that could not be sent
    is sent again on a new one, and no failure stops the worker recording. Only a beacon
    whose reply the kill cut off is a 503; and no view is recorded twice."""
    url, _restart = own_redis
    settings.DJINSIGHT_REDIS_URL = url
    settings.ALLOWED_HOSTS = ["testserver"]
    reset_clients()
    article = Article.objects.create(title="x", slug="x")
    body = beacon_body(article)
    app = fast_path()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def load(n: int) -> None:
        seen: Counter[int] = Counter()
        k = 0
        while not stop.is_set():
            k += 1
            seen[
                call(app, environ(body, REMOTE_ADDR=f"10.{n}.{k // 250 % 250}.{k % 250}")).status
            ] += 1
        with lock:
            statuses.update(seen)

    killer = redis.Redis.from_url(url)
    threads = [threading.Thread(target=load, args=(n,)) for n in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    killed = []
    deadline = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < deadline:
        time.sleep(KILL_EVERY)
        killed.append(killer.client_kill_filter(_type="normal", skipme=True))
    stop.set()
    for thread in threads:
        thread.join()
    recorded = sum(
        killer.xlen(key)
        for key in killer.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "buffer:*")
    )
    sent = sum(statuses.values())
    rate = statuses[503] / sent
    FIGURES.append(
        f"Redis CLIENT KILL every {KILL_EVERY} s under load ({LOAD_THREADS} threads, fast path, "
        f"{LOAD_SECONDS:.0f} s, {sum(killed)} connections killed): {sent} beacons, "
        f"{statuses[503]} answered 503 ({rate:.2%}); {recorded} recorded"
    )
    assert set(statuses) <= {204, 503}, statuses
    assert sum(1 for n in killed if n) >= len(killed) // 2  # the kills did cut connections
    assert rate < 0.01
    # A 204 is recorded exactly once; a 503 whose reply was cut off may be recorded (once).
    assert statuses[204] <= recorded <= statuses[204] + statuses[503]


# -- a hanging Redis and the short read timeout (issue 14) ---------------------------------

READ_TIMEOUT = 0.25
RENDER_MARGIN = 0.1


@pytest.fixture
def paused_redis():
    """A real redis-server that the test may pause (SIGSTOP) and resume: it then accepts
    connections (the kernel does) and answers nothing."""
    port = free_port()
    proc = subprocess.Popen(redis_server_command(port), stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0", proc
    proc.send_signal(signal.SIGCONT)
    proc.terminate()
    proc.wait(10)


def timed_get(client, url: str) -> tuple[float, object]:
    started = time.monotonic()
    response = client.get(url)
    return time.monotonic() - started, response


def test_pages_with_stat_tags_render_within_the_read_timeout_while_redis_hangs(
    client, paused_redis, silent_server, settings
):
    """Live reads wait at most DJINSIGHT_READ_TIMEOUT, then show the database's figures:
    a redis-server paused mid-life (its pooled connections stop answering) and a server
    that never answers at all (new connections hang in the handshake). After two reads in
    a row time out, they are skipped (no wait) until one every 2 s finds Redis back."""
    articles = [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(5)]
    Article.objects.filter(pk=articles[0].pk).update(total_views=42)
    url, proc = paused_redis
    settings.DJINSIGHT_READ_TIMEOUT = READ_TIMEOUT
    settings.DJINSIGHT_REDIS_URL = url
    reset_clients()
    healthy, response = timed_get(client, "/dashboard/")  # pools a live-read connection
    assert response.status_code == 200
    proc.send_signal(signal.SIGSTOP)
    paused = [timed_get(client, "/dashboard/") for _ in range(3)]
    read_outage.reset()
    live, answer = timed_get(client, f"/djInsight/live/?ref={sign(articles[0])}")
    proc.send_signal(signal.SIGCONT)
    settings.DJINSIGHT_REDIS_URL = silent_server
    reset_clients()
    read_outage.reset()
    silent = [timed_get(client, "/dashboard/") for _ in range(3)]
    FIGURES.append(
        f"hanging Redis, /dashboard/ (5 objects x 4 stat tags + live counter), "
        f"DJINSIGHT_READ_TIMEOUT {READ_TIMEOUT}s: renders in "
        + ", ".join(f"{t * 1000:.0f}" for t, _ in paused)
        + " ms (redis-server paused), "
        + ", ".join(f"{t * 1000:.0f}" for t, _ in silent)
        + f" ms (never answers); healthy {healthy * 1000:.0f} ms; "
        + f"live endpoint {live * 1000:.0f} ms (paused)"
    )
    for elapsed, response in paused + silent:
        assert response.status_code == 200
        assert b"42" in response.content  # the database's figure
        assert elapsed < READ_TIMEOUT + RENDER_MARGIN, elapsed
    assert paused[2][0] < READ_TIMEOUT / 2 and silent[2][0] < READ_TIMEOUT / 2  # skipped
    assert answer.status_code == 200
    assert answer.json()["stats"][sign(articles[0])]["total_views"] == 42
    assert live < READ_TIMEOUT + RENDER_MARGIN


# -- one failed call (issue 14) -------------------------------------------------------------


def stream_entries(redis_client, prefix: str) -> int:
    return sum(redis_client.xlen(key) for key in redis_client.scan_iter(match=prefix + "buffer:*"))


def fail_once(monkeypatch, method: str) -> list:
    """Make the next ``Connection.<method>`` of redis-py fail as a dead socket would,
    after doing its real work for ``read_response`` (the reply is lost, not the command)."""
    original = getattr(redis.connection.Connection, method)
    failures: list = []

    def failing(self, *args, **kwargs):
        if failures:
            return original(self, *args, **kwargs)
        failures.append(method)
        if method == "read_response":
            original(self, *args, **kwargs)  # Redis ran the command; its reply is lost
        self.disconnect()
        raise redis.ConnectionError("Connection closed by server.")

    monkeypatch.setattr(redis.connection.Connection, method, failing)
    return failures


def test_a_command_that_could_not_be_sent_is_sent_again_on_a_new_connection(
    client, redis_client, settings, monkeypatch
):
    article = Article.objects.create(title="x", slug="x")
    assert beacon(client, article, **visitor(1)).status_code == 204  # registers the script
    failures = fail_once(monkeypatch, "send_packed_command")
    assert beacon(client, article, **visitor(2)).status_code == 204
    assert failures == ["send_packed_command"]
    assert stream_entries(redis_client, settings.DJINSIGHT_REDIS_KEY_PREFIX) == 2
    assert not outage.should_skip()


def test_a_lost_reply_is_a_503_never_sent_again_and_does_not_stop_recording(
    client, redis_client, settings, monkeypatch
):
    article = Article.objects.create(title="x", slug="x")
    assert beacon(client, article, **visitor(1)).status_code == 204
    failures = fail_once(monkeypatch, "read_response")
    assert beacon(client, article, **visitor(2)).status_code == 503
    assert failures == ["read_response"]
    # Redis ran it: recorded once, not twice; the next beacon is recorded at once.
    assert stream_entries(redis_client, settings.DJINSIGHT_REDIS_KEY_PREFIX) == 2
    assert beacon(client, article, **visitor(3)).status_code == 204
    assert stream_entries(redis_client, settings.DJINSIGHT_REDIS_KEY_PREFIX) == 3


def refused_error() -> redis.ConnectionError:
    """What redis-py raises when nobody listens: its error, in the context of the OS's."""
    exc = redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
    exc.__context__ = ConnectionRefusedError(111, "Connection refused")
    return exc


@pytest.mark.parametrize(
    ("failures", "skips"),
    [
        ([redis.ConnectionError("Connection closed by server.")] * 3, False),
        ([redis.TimeoutError("Timeout reading from socket")], False),
        ([redis.TimeoutError("Timeout reading from socket")] * 2, True),
        ([Unreachable("Error 111 connecting")], True),
        ([refused_error()], True),
    ],
    ids=["lost-replies", "one-timeout", "two-timeouts", "unreachable", "refused"],
)
def test_calls_are_skipped_only_when_redis_looks_down(failures, skips):
    watch = Outage()
    for exc in failures:
        watch.failed(exc)
    assert watch.should_skip() is skips
    watch.succeeded()
    assert not watch.should_skip()
