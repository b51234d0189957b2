"""I6: every kind of bad beacon gets a clear 4xx JSON error and writes nothing."""

import json
import sys
import time

import pytest
from django.core import signing

from djinsight.tracking.references import SALT, sign
from tests.conftest import visitor
from tests.testapp.models import Article, Untracked

pytestmark = pytest.mark.django_db

URL = "/djInsight/record/"


def forge(value: str) -> str:
    return signing.Signer(salt=SALT).sign(value)


def now_ms() -> int:
    return int(time.time() * 1000)


CASES = [
    ("malformed json", lambda ref: b"{not json", 400, "invalid_json"),
    ("json array", lambda ref: b"[1, 2]", 400, "invalid_json"),
    ("json string", lambda ref: b'"hello"', 400, "invalid_json"),
    ("invalid utf-8", lambda ref: b'{"ref": "\xff\xfe"}', 400, "invalid_json"),
    ("empty body", lambda ref: b"", 400, "invalid_json"),
    (
        "deeply nested json",
        lambda ref: b'{"a":' + b"[" * 1500 + b"]" * 1500 + b"}",
        400,
        # Python 3.13's decoder takes ~20,000 levels, more than fit in MAX_BODY_BYTES:
        # there the body parses, and it names no object.
        "invalid_json" if sys.version_info < (3, 13) else "invalid_reference",
    ),
    ("missing ref", lambda ref: {"url": "/"}, 400, "invalid_reference"),
    ("ref is a number", lambda ref: {"ref": 5}, 400, "invalid_reference"),
    ("forged signature", lambda ref: {"ref": ref[:-3] + "abc"}, 400, "invalid_reference"),
    ("unsigned name", lambda ref: {"ref": "testapp.article:1"}, 400, "invalid_reference"),
    ("unknown model", lambda ref: {"ref": forge("nope.nothing:1")}, 400, "invalid_reference"),
    (
        "untracked model",
        lambda ref: {"ref": forge("testapp.untracked:1")},
        400,
        "invalid_reference",
    ),
    ("no pk", lambda ref: {"ref": forge("testapp.article")}, 400, "invalid_reference"),
    (
        "absurd pk",
        lambda ref: {"ref": forge("testapp.article:" + "9" * 100)},
        400,
        "invalid_reference",
    ),
    ("ts from 1970", lambda ref: {"ref": ref, "ts": 1000}, 400, "invalid_timestamp"),
    (
        "ts in the future",
        lambda ref: {"ref": ref, "ts": now_ms() + 86_400_000},
        400,
        "invalid_timestamp",
    ),
    ("ts a string", lambda ref: {"ref": ref, "ts": "yesterday"}, 400, "invalid_timestamp"),
    ("ts a bool", lambda ref: {"ref": ref, "ts": True}, 400, "invalid_timestamp"),
    ("ts a float", lambda ref: {"ref": ref, "ts": 1.5e12}, 400, "invalid_timestamp"),
    ("url a list", lambda ref: {"ref": ref, "url": ["/a"]}, 400, "invalid_field"),
    ("referrer an object", lambda ref: {"ref": ref, "referrer": {}}, 400, "invalid_field"),
    # Either would poison the flush: PostgreSQL refuses NUL in text, UTF-8 refuses surrogates.
    ("NUL in url", lambda ref: {"ref": ref, "url": "/a\u0000b"}, 400, "invalid_field"),
    (
        "NUL in referrer",
        lambda ref: {"ref": ref, "referrer": "https://x.test/\u0000"},
        400,
        "invalid_field",
    ),
    (
        "lone surrogate in url",
        lambda ref: b'{"ref": "%s", "url": "/\\ud800"}' % ref.encode(),
        400,
        "invalid_field",
    ),
    ("oversized body", lambda ref: {"ref": ref, "url": "/" + "a" * 10_000}, 413, "body_too_large"),
]


def nothing_written(redis_client, settings):
    assert list(redis_client.scan_iter(match=settings.DJINSIGHT_REDIS_KEY_PREFIX + "*")) == []


@pytest.mark.parametrize(("label", "make", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_beacon_is_refused_and_writes_nothing(
    client, redis_client, settings, label, make, status, code
):
    article = Article.objects.create(title="x", slug="x")
    Untracked.objects.create(name="u")
    body = make(sign(article))
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post(URL, data=data, content_type="application/json", **visitor(1))
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    nothing_written(redis_client, settings)


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch", "options"])
def test_wrong_method_is_405_json(client, redis_client, settings, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    nothing_written(redis_client, settings)


def test_signature_from_another_salt_is_refused(client, redis_client, settings):
    article = Article.objects.create(title="x", slug="x")
    other = signing.Signer(salt="something-else").sign(f"testapp.article:{article.pk}")
    response = client.post(URL, data=json.dumps({"ref": other}), content_type="text/plain")
    assert response.status_code == 400
    nothing_written(redis_client, settings)


def test_reference_stops_working_when_the_secret_key_changes(client, redis_client, settings):
    """Verified references are cached; a new SECRET_KEY must still invalidate them."""
    article = Article.objects.create(title="x", slug="x")
    ref = sign(article)
    body = json.dumps({"ref": ref}).encode()
    assert client.post(URL, data=body, content_type="text/plain", **visitor(1)).status_code == 204
    settings.SECRET_KEY = "a-rotated-secret-key-for-this-test"
    response = client.post(URL, data=body, content_type="text/plain", **visitor(2))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_reference"
