"""A beacon whose body is shorter than its Content-Length is refused (400
``incomplete_body``), never recorded, and does not hold a worker for long.

How long the server waits for the missing bytes is the WSGI server's read
timeout. Django's runserver (and pytest-django's ``live_server``) has none: the
answer comes when the client stops sending (closes its side). gunicorn has none
either, so djinsight bounds each read of the body there itself
(``http.BODY_TIMEOUT``, through ``gunicorn.socket``); that one is tested against
a real gunicorn, for the Django view and the fast path.
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from djinsight.http import BODY_TIMEOUT
from djinsight.tracking.references import sign
from tests.conftest import FIGURES, ROOT, child_env
from tests.servers import free_port
from tests.testapp.models import Article
from tests.tracking.test_fastpath import (  # noqa: F401  (fixtures used by name)
    beacon_body,
    call,
    django_app,
    environ,
    fast_app,
    passed,
)

URL = "/djInsight/record/"


def entries(redis_client, settings) -> int:
    prefix = settings.DJINSIGHT_REDIS_KEY_PREFIX
    return sum(redis_client.xlen(key) for key in redis_client.scan_iter(match=prefix + "buffer:*"))


# -- in process ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("app", ["django_app", "fast_app"])
def test_a_body_shorter_than_its_length_is_400_and_not_recorded(
    request, app, redis_client, settings
):
    article = Article.objects.create(title="x", slug="x")
    body = beacon_body(article)  # a whole JSON object: it would be recordable
    answer = call(request.getfixturevalue(app), environ(body, CONTENT_LENGTH=str(len(body) + 50)))
    assert answer.status == 400
    assert answer.json()["error"]["code"] == "incomplete_body"
    assert entries(redis_client, settings) == 0


# -- over a socket ------------------------------------------------------------------------


def short_request(port: int, body: bytes, path: str = URL, close: bool = False) -> tuple:
    """POST ``body`` declaring 400 more bytes than it has; (seconds to the answer, answer).

    ``close``: shut our sending side after the body (the server then reads its end)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        f"User-Agent: short-body\r\nContent-Length: {len(body) + 400}\r\n\r\n"
    )
    started = time.monotonic()
    sock.sendall(head.encode() + body)
    if close:
        sock.shutdown(socket.SHUT_WR)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    finally:
        elapsed = time.monotonic() - started
        sock.close()
    return elapsed, answer


def status_and_code(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]["code"]


def test_live_server_answers_400_once_the_client_stops_sending(
    live_server, redis_client, settings, transactional_db
):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    article = Article.objects.create(title="x", slug="x")
    port = int(live_server.url.rsplit(":", 1)[1])
    elapsed, answer = short_request(port, beacon_body(article), close=True)
    assert status_and_code(answer) == (400, "incomplete_body")
    assert elapsed < 2
    assert entries(redis_client, settings) == 0


@pytest.fixture
def gunicorn(transactional_db):
    """One sync gunicorn worker serving tests/wsgi.py, on this test's database and Redis keys."""
    port = free_port()
    env = child_env()
    env["DJINSIGHT_TEST_HOSTS"] = "127.0.0.1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tests.wsgi:application", "--workers", "1"]
        + ["--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "error"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/djInsight/api/schema/") as r:
                assert r.status == 200
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(10)


def good_beacon(port: int, article, path: str, n: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps({"ref": sign(article), "url": "/x/", "referrer": ""}).encode(),
        headers={"Content-Type": "text/plain", "User-Agent": f"agent-{n}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


@pytest.mark.slow
def test_gunicorn_answers_a_stalled_body_within_the_body_timeout(gunicorn, redis_client, settings):
    """The client sends part of the body and then waits, its connection open: the one
    sync worker answers 400 after BODY_TIMEOUT, not when the client gives up, and
    records nothing; the next beacon is answered at once."""
    article = Article.objects.create(title="x", slug="x")
    times = {}
    for n, (name, path) in enumerate([("Django view", URL), ("fast path", URL + "?fast")]):
        elapsed, answer = short_request(gunicorn, beacon_body(article), path)
        assert status_and_code(answer) == (400, "incomplete_body"), answer
        assert BODY_TIMEOUT * 0.9 < elapsed < BODY_TIMEOUT + 1.5, elapsed
        times[name] = elapsed
        assert good_beacon(gunicorn, article, path, n) == 204
    assert entries(redis_client, settings) == 2  # the good beacons only
    FIGURES.append(
        "body shorter than Content-Length, client waiting, gunicorn sync worker: 400 "
        "incomplete_body after "
        + ", ".join(f"{t:.2f} s ({name})" for name, t in times.items())
        + f"; BODY_TIMEOUT {BODY_TIMEOUT} s"
    )
