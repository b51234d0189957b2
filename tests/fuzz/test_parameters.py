"""Hostile query parameters and path segments against every page that reads them:
the admin dashboard and its export, djinsight's admin change lists, a tracked
model's admin, the REST API, the live endpoint, and the beacon's Content-Length.

Values mix the hostile list (unicode digits, NUL, huge numbers, dates at the
calendar's edges, very long text, broken UTF-8) with valid ones, so that a bad
value also reaches the code behind a good one. No answer may be a 5xx, a
streamed export must stream to its end, and every JSON error carries a code.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from djinsight.models import ApiToken
from djinsight.tracking.fastpath import BeaconMiddleware
from djinsight.tracking.references import sign
from tests import analytics_data as data
from tests.fuzz.conftest import FUZZ, HOSTILE, Tally
from tests.testapp.models import Article
from tests.tracking.test_fastpath import call, environ

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 40  # per target
API = "/djInsight/api/"
ADMIN = "/admin/djinsight/"
RANGE = ["period", "since", "until"]
# target -> (path, with "{}" for a fuzzed path segment, or None; parameter names)
TARGETS = {
    "admin dashboard": (ADMIN + "pageviewsummary/analytics/", [*RANGE, "granularity"]),
    "admin export": (ADMIN + "pageviewsummary/analytics/export/", [*RANGE, "format", "kind"]),
    "admin raw log list": (
        ADMIN + "pageviewlog/",
        ["q", "viewed_at__year", "viewed_at__month", "viewed_at__day", "is_unique__exact"]
        + ["device__exact", "content_type__id__exact", "o", "p"],
    ),
    "admin summary list": (
        ADMIN + "pageviewsummary/",
        ["q", "date__year", "date__month", "date__day", "content_type__id__exact", "o", "p"],
    ),
    "admin tracked object": ("/admin/testapp/article/{}/change/", []),
    "api top": (API + "top/", [*RANGE, "content_type", "limit", "page"]),
    "api timeseries": (API + "timeseries/", [*RANGE, "granularity", "content_type", "object_id"]),
    "api summary": (API + "summary/", RANGE),
    "api export": (API + "export/", [*RANGE, "format", "kind"]),
    "api object": (API + "stats/testapp.article/{}/", []),
    "api object type": (API + "stats/{}/1/", []),
    "live endpoint": ("/djInsight/live/", ["ref"]),
}
STREAMED = {"admin export", "api export"}
JSON_ERRORS = {name for name in TARGETS if name.startswith(("api", "live"))}


def valid_values() -> list[str]:
    today = timezone.localdate()
    days = [today, today - timedelta(days=6), today - timedelta(days=400), date(1900, 1, 1)]
    return [
        *(d.isoformat() for d in days),
        *["1", "2", "7", "30", "90", "100", "3660", "day", "week", "month"],
        *["csv", "ndjson", "summaries", "logs", "testapp.article", "testapp.product"],
        *["True", "False", "Other", "-1", "1.2", "alpha"],
    ]


def values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(valid_values()),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
        st.text(max_size=40),
    )


def encoded(value: str) -> str:
    """Percent-encoded; a lone surrogate becomes bytes that are not UTF-8."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def url(target: str, segment: str, pairs: list[tuple[str, str]]) -> str:
    path, _names = TARGETS[target]
    if "{}" in path:
        path = path.format(encoded(segment) or "x")
    query = "&".join(f"{name}={encoded(value)}" for name, value in pairs)
    return path + ("?" + query if query else "")


def answer(client: Client, target: str, address: str, headers: dict) -> tuple[int, bytes]:
    """Status and whole body; a stream that breaks is a 5xx."""
    response = client.get(address, **headers)
    if not response.streaming:
        return response.status_code, response.content
    try:
        return response.status_code, b"".join(response.streaming_content)
    except Exception as exc:  # the stream broke after its status was sent
        return 599, repr(exc).encode()


tally = Tally("admin, export, API and live endpoint parameters (Hypothesis)")
beacon_tally = Tally("beacon Content-Length and body (Hypothesis)")


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    tally.report()
    beacon_tally.report()


@pytest.mark.parametrize("target", list(TARGETS))
def test_hostile_parameters_never_get_a_server_error(target):
    data.build()
    admin = User.objects.create_superuser("fuzz", password="pw")
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.generate('fuzz')[1]}"}
    _path, names = TARGETS[target]
    pairs = st.lists(st.tuples(st.sampled_from(names), values()), max_size=5)
    if not names:
        pairs = st.just([])

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(pairs=pairs, segment=values())
    def run(pairs, segment):
        address = url(target, segment, pairs)
        status, body = answer(client, target, address, headers)
        tally.add(status, address[:300])
        assert status < 500, (status, address[:300], body[:500])
        if target in JSON_ERRORS and status >= 400:
            assert json.loads(body)["error"]["code"], body[:300]

    run()


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_hostile_value_in_every_parameter_is_a_4xx_at_worst(target):
    """The sweep Hypothesis may not draw: each hostile value alone in each parameter."""
    data.build()
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_superuser("fuzz", password="pw"))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.generate('fuzz')[1]}"}
    path, names = TARGETS[target]
    cases = [("x", [(name, value)]) for name in names for value in HOSTILE]
    if "{}" in path:
        cases += [(value, []) for value in HOSTILE]
    failures = []
    for segment, pairs in cases:
        address = url(target, segment, pairs)
        status, body = answer(client, target, address, headers)
        tally.add(status, address[:300])
        if status >= 500:
            failures.append((status, address[:200], body[:300]))
    assert not failures


@pytest.fixture
def fast_app(wsgi_app):
    return BeaconMiddleware(wsgi_app)


def test_hostile_beacon_lengths_and_bodies_never_get_a_server_error(fast_app):
    article = Article.objects.create(title="x", slug="x")
    good = json.dumps({"ref": sign(article), "url": "/x/", "referrer": ""}).encode()
    bodies = st.one_of(
        st.just(good),
        st.sampled_from(HOSTILE).map(lambda v: v.encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
    )
    lengths = st.one_of(
        st.sampled_from(HOSTILE), st.integers(-5, 5000).map(str), st.just("<body length>")
    )

    @settings(FUZZ, max_examples=150)
    @given(body=bodies, length=lengths)
    def run(body, length):
        length = str(len(body)) if length == "<body length>" else length
        # The server passes the header as it came; the body may be shorter or longer.
        answered = call(fast_app, environ(body, CONTENT_LENGTH=length))
        beacon_tally.add(answered.status, f"Content-Length {length[:40]!r}, {len(body)} bytes")
        assert answered.status < 500, (answered.status, length[:40], body[:80])
        if answered.status != 204:
            assert answered.json()["error"]["code"]

    run()
