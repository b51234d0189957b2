"""The live-figures endpoint: many signed references, one Redis round trip, no SQL when seeded."""

import json

import pytest
from django.core import signing
from django.test import override_settings

from djinsight.pipeline import flush
from djinsight.stats.endpoint import MAX_REFS
from djinsight.store.client import outage, reset_clients
from djinsight.tracking.references import sign
from tests.conftest import beacon, visitor
from tests.templatetags.test_djinsight_tags import RoundTrips
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db

URL = "/djInsight/live/"


def make(n):
    return [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(n)]


def get_live(client, *refs):
    return client.get(URL, {"ref": list(refs)})


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_live_figures_for_many_objects_include_unflushed_views(client):
    a, b = make(2)
    product = Product.objects.create(name="Desk")
    for n in (1, 2, 2):
        beacon(client, a, **visitor(n))
    beacon(client, product, **visitor(1))
    response = get_live(client, sign(a), sign(b), sign(product))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    stats = response.json()["stats"]
    assert stats[sign(a)]["total_views"] == 3
    assert stats[sign(a)]["unique_views"] == 2
    assert stats[sign(a)]["views_today"] == 3
    assert stats[sign(a)]["views_week"] == stats[sign(a)]["views_month"] == 3
    assert stats[sign(a)]["last_viewed_at"]
    assert stats[sign(b)] == {
        "total_views": 0,
        "unique_views": 0,
        "views_today": 0,
        "views_week": 0,
        "views_month": 0,
    }
    assert stats[sign(product)]["total_views"] == 1


def test_seeded_objects_cost_no_sql_and_one_round_trip(
    client, django_assert_num_queries, monkeypatch
):
    articles = make(30)
    for a in articles:
        beacon(client, a, **visitor(1))
    flush.process_pageviews()  # seeds the live counters from the database
    for a in articles[:10]:
        beacon(client, a, **visitor(2))
    refs = [sign(a) for a in articles]
    get_live(client, *refs)  # warm-up (script cache)
    trips = RoundTrips(monkeypatch)
    with django_assert_num_queries(0):
        response = get_live(client, *refs)
    assert trips.count == 1
    stats = response.json()["stats"]
    assert [stats[r]["total_views"] for r in refs] == [2] * 10 + [1] * 20
    assert [stats[r]["unique_views"] for r in refs] == [2] * 10 + [1] * 20


def test_unseeded_objects_cost_one_batched_query_per_model(
    client, django_assert_max_num_queries, monkeypatch
):
    articles = make(20)
    product = Product.objects.create(name="Desk")
    refs = [sign(a) for a in articles] + [sign(product)]
    get_live(client, *refs)
    trips = RoundTrips(monkeypatch)
    with django_assert_max_num_queries(2):  # one per model, not one per object
        response = get_live(client, *refs)
    assert response.status_code == 200
    assert trips.count == 1


def test_figures_never_go_backwards_across_a_flush(client):
    (a,) = make(1)
    for n in range(4):
        beacon(client, a, **visitor(n))
    before = get_live(client, sign(a)).json()["stats"][sign(a)]
    flush.process_pageviews()
    after = get_live(client, sign(a)).json()["stats"][sign(a)]
    assert before == after
    assert after["total_views"] == 4 and after["unique_views"] == 4


def test_post_with_a_json_list_of_references(client):
    (a,) = make(1)
    beacon(client, a, **visitor(1))
    response = client.post(
        URL, data=json.dumps({"refs": [sign(a)]}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["stats"][sign(a)]["total_views"] == 1


def test_forged_reference_is_refused(client):
    (a,) = make(1)
    forged = signing.Signer(salt="something else").sign(f"testapp.article:{a.pk}")
    assert_error(get_live(client, sign(a), forged), 400, "invalid_reference")
    assert_error(get_live(client, f"testapp.article:{a.pk}"), 400, "invalid_reference")
    untracked = signing.Signer(salt="djinsight.object-reference").sign("auth.user:1")
    assert_error(get_live(client, untracked), 400, "invalid_reference")


def test_bad_requests_get_json_errors(client):
    (a,) = make(1)
    assert_error(client.get(URL), 400, "missing_reference")
    assert_error(get_live(client, *[sign(a)] * (MAX_REFS + 1)), 400, "too_many_references")
    assert_error(
        client.post(URL, data="{nope", content_type="application/json"), 400, "invalid_json"
    )
    assert_error(
        client.post(URL, data=json.dumps({"refs": "x"}), content_type="application/json"),
        400,
        "invalid_field",
    )
    assert_error(
        client.post(URL, data=json.dumps([1]), content_type="application/json"),
        400,
        "invalid_field",
    )
    assert_error(
        client.post(URL, data="x" * 100_000, content_type="application/json"), 413, "body_too_large"
    )
    assert_error(client.put(URL), 405, "method_not_allowed")
    assert_error(client.delete(URL), 405, "method_not_allowed")


def test_a_hundred_references_are_answered(client):
    articles = make(MAX_REFS)
    response = get_live(client, *[sign(a) for a in articles])
    assert response.status_code == 200
    assert len(response.json()["stats"]) == MAX_REFS


def test_deleted_object_is_left_out(client):
    a, b = make(2)
    ref = sign(b)
    b.delete()
    stats = get_live(client, sign(a), ref).json()["stats"]
    assert sign(a) in stats and ref not in stats


def test_deleted_object_with_views_and_live_counters_is_left_out(
    client, django_capture_on_commit_callbacks
):
    a, b = make(2)
    ref = sign(b)
    beacon(client, b, **visitor(1))
    flush.process_pageviews()  # seeded: Redis alone would answer for b
    beacon(client, b, **visitor(2))  # and one view not flushed
    with django_capture_on_commit_callbacks(execute=True):
        b.delete()
    response = get_live(client, sign(a), ref)
    assert response.status_code == 200
    assert set(response.json()["stats"]) == {sign(a)}


def test_database_figures_when_redis_is_down(client):
    (a,) = make(1)
    Article.objects.filter(pk=a.pk).update(total_views=42, unique_views=7)
    outage.succeeded()
    try:
        with override_settings(DJINSIGHT_REDIS_URL="redis://127.0.0.1:1/0"):
            reset_clients()
            response = get_live(client, sign(a))
    finally:
        reset_clients()
        outage.succeeded()
    assert response.status_code == 200
    figures = response.json()["stats"][sign(a)]
    assert (figures["total_views"], figures["unique_views"]) == (42, 7)
