"""One JSON error body for every endpoint: beacon view, WSGI fast path, live endpoint, API."""

import json

import pytest

from djinsight.api.views import MAX_LIMIT
from djinsight.exceptions import (
    BadParameter,
    BadRequest,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
)
from djinsight.http import SafeJsonResponse, error_body, error_response
from djinsight.reports.params import parse_int
from djinsight.tracking.fastpath import BeaconMiddleware
from tests import analytics_data as data
from tests.tracking.test_fastpath import call, environ

INVALID_JSON = BadRequest("invalid_json", "request body must be a JSON object")


def test_error_body_shape():
    body = error_body(BadRequest("invalid_field", "'url' must be a string"))
    shape = {"error": {"code": "invalid_field", "message": "'url' must be a string"}}
    assert json.loads(body) == shape
    assert body == json.dumps(shape).encode()  # byte for byte what the beacon sent before


def test_error_body_escapes_markup_and_means_the_same():
    message = "'<script>alert(1)</script> & co' is not a tracked model"
    body = error_body(BadParameter("unknown_content_type", message))
    assert b"<" not in body and b">" not in body and b"&" not in body
    assert b"\\u003cscript\\u003e" in body and b"\\u0026" in body
    assert json.loads(body)["error"]["message"] == message
    # the API's other answers are escaped alike
    shape = {"error": {"code": "unknown_content_type", "message": message}}
    assert SafeJsonResponse(shape).content == body


def test_error_response_carries_status_content_type_and_headers():
    response = error_response(NotAuthenticated("invalid_token", "the API token is unknown"))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == 'Bearer realm="djinsight"'
    assert response.content == error_body(
        NotAuthenticated("invalid_token", "the API token is unknown")
    )

    response = error_response(MethodNotAllowed("use POST", allow="POST"))
    assert (response.status_code, response["Allow"]) == (405, "POST")
    assert not error_response(NotFound(message="x")).has_header("Allow")


@pytest.mark.django_db
def test_the_same_error_is_the_same_bytes_on_beacon_fast_path_and_live_endpoint(client):
    """Not JSON: the beacon (Django view and WSGI fast path) and the live endpoint all say so
    with one body, the helper's."""
    beacon_view = client.post("/djInsight/record/", data=b"{nope", content_type="text/plain")
    fast = call(BeaconMiddleware(lambda env, start: pytest.fail("passed on")), environ(b"{nope"))
    live = client.post("/djInsight/live/", data=b"{nope", content_type="application/json")

    expected = error_body(INVALID_JSON)
    assert beacon_view.content == fast.body == live.content == expected
    assert beacon_view.status_code == fast.status == live.status_code == 400
    assert beacon_view["Content-Type"] == fast.headers["Content-Type"] == live["Content-Type"]


@pytest.mark.django_db
def test_live_endpoint_wrong_method_is_the_helpers_405(client):
    response = client.put("/djInsight/live/")
    assert response.content == error_body(MethodNotAllowed("use GET or POST"))
    assert (response.status_code, response["Allow"]) == (405, "GET, POST")


@pytest.mark.django_db
def test_api_errors_are_the_helpers_bodies(client):
    anonymous = client.get("/djInsight/api/summary/")
    assert anonymous.content == error_body(
        NotAuthenticated("not_authenticated", "log in or send an API token")
    )
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="djinsight"'

    client.force_login(data.analyst())
    with pytest.raises(BadParameter) as info:
        parse_int({"limit": "0"}, "limit", 10, 1, MAX_LIMIT)
    bad = client.get("/djInsight/api/top/", {"limit": "0"})
    assert (bad.status_code, bad.content) == (400, error_body(info.value))

    missing = client.get("/djInsight/api/nowhere/")
    assert missing.status_code == 404
    assert missing.content == error_body(
        NotFound(message="no such API endpoint; see the schema at api/schema/")
    )

    wrong = client.post("/djInsight/api/summary/")
    assert wrong.content == error_body(MethodNotAllowed("POST is not allowed; use GET"))
    assert (wrong.status_code, wrong["Allow"]) == (405, "GET, HEAD")
