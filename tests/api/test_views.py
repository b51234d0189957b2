import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from djinsight.models import ApiToken, PageViewSummary
from djinsight.pipeline.rollups import rebuild_rollups
from tests import analytics_data as data
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db

API = "/djInsight/api/"
ENDPOINTS = ["summary/", "top/", "timeseries/", "audience/", "export/"]

# Query budgets. Token: token lookup (1) + last_used_at touch (1, at most every 5 minutes).
# Session: session + user + user permissions + group permissions (4).
TOKEN = 2
BUDGET = {
    "summary/": 3 + 1,  # totals, content types (figures, objects viewed) + content-type names
    "top/": 2 + 1 + 2,  # count, page, content types + one query per content type
    "timeseries/": 1,
    "audience/": 2,  # human views, bot views by kind
    "stats": 1,  # the object (ContentType is cached; live figures come from Redis)
}


@pytest.fixture
def fx():
    return data.build()


@pytest.fixture
def token():
    return ApiToken.generate("tests")[1]


def get(client, path, token=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(API + path, params, **headers)


def body(response):
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


# -- authentication ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["summary/", "top/", "timeseries/", "export/", "stats/testapp.article/1/"]
)
def test_anonymous_gets_401_json(client, path):
    response = get(client, path)
    assert response.status_code == 401
    assert body(response)["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("path", ["summary/", "top/", "export/"])
def test_staff_without_permission_gets_403(client, path):
    client.force_login(data.staff_without_permission())
    response = get(client, path)
    assert response.status_code == 403
    assert body(response)["error"]["code"] == "permission_denied"


def test_staff_session_with_permission_is_accepted(client, fx):
    client.force_login(data.analyst())
    assert get(client, "summary/").status_code == 200


def test_non_staff_session_with_permission_is_accepted(client, fx):
    user = data.analyst()
    user.is_staff = False
    user.save()
    client.force_login(user)
    assert get(client, "summary/").status_code == 200
    assert get(client, "top/").status_code == 200


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer ", "Token abc", "Basic dXNlcjpwdw==", "Bearer " + "x" * 500]
)
def test_bad_tokens_get_401(client, header):
    response = client.get(API + "summary/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert body(response)["error"]["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused_and_valid_one_records_last_use(client, token):
    assert get(client, "summary/", token).status_code == 200
    row = ApiToken.objects.get()
    assert row.last_used_at is not None
    row.is_active = False
    row.save()
    assert get(client, "summary/", token).status_code == 401


def test_token_is_stored_only_as_its_hash(token):
    row = ApiToken.objects.get()
    assert token not in (row.key_hash, row.prefix, row.name)
    assert row.key_hash == ApiToken.hash(token)


def test_write_methods_get_405_json(client, token):
    response = client.post(API + "summary/", {}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405
    assert body(response)["error"]["code"] == "method_not_allowed"
    refused = client.delete(API + "schema/")
    assert refused.status_code == 405
    assert refused["Allow"] == "GET, HEAD"


def test_unknown_endpoint_gets_404_json(client):
    response = client.get(API + "nope/")
    assert response.status_code == 404
    assert body(response)["error"]["code"] == "not_found"


# -- figures -----------------------------------------------------------------------


def test_summary_matches_the_fixture(client, fx, token):
    result = body(get(client, "summary/", token, period=7))
    assert (result["views"], result["unique_visitors"], result["returning_views"]) == (24, 14, 10)
    assert result["previous"]["views"] == 23 and result["previous"]["unique_visitors"] == 6
    assert result["change"]["views"] == round(100 / 23, 1)
    assert result["views_per_visitor"] == round(24 / 14, 2)
    assert result["range"] == {
        "since": (fx.today - timedelta(days=6)).isoformat(),
        "until": fx.today.isoformat(),
        "days": 7,
    }
    assert [(t["content_type"], t["views"], t["objects"]) for t in result["content_types"]] == [
        ("testapp.article", 22, 2),
        ("testapp.product", 2, 1),
    ]


def test_top_content_paginates_and_filters_by_content_type(client, fx, token):
    first = body(get(client, "top/", token, period=7, limit=2))
    assert first["count"] == 3 and first["pages"] == 2 and first["previous"] is None
    assert [(r["name"], r["views"]) for r in first["results"]] == [
        ("Alpha", 15),
        (data.HOSTILE[:200], 7),
    ]
    assert "page=2" in first["next"]
    second = body(client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert [r["name"] for r in second["results"]] == ["Product: Widget"]
    assert second["next"] is None and "page=1" in second["previous"]
    products = body(get(client, "top/", token, period=7, content_type="testapp.product"))
    assert [(r["object_id"], r["views"]) for r in products["results"]] == [(str(fx.product.pk), 2)]


def test_timeseries_for_everything_a_type_and_one_object(client, fx, token):
    everything = body(get(client, "timeseries/", token, period=7))
    assert [p["views"] for p in everything["results"]] == [0, 0, 0, 0, 7, 5, 12]
    articles = body(get(client, "timeseries/", token, period=7, content_type="testapp.article"))
    assert [p["views"] for p in articles["results"]][-3:] == [7, 5, 10]
    product = body(
        get(
            client,
            "timeseries/",
            token,
            period=7,
            content_type="testapp.product",
            object_id=str(fx.product.pk),
        )
    )
    assert [p["views"] for p in product["results"]][-1] == 2
    assert sum(p["views"] for p in product["results"]) == 2
    monthly = body(get(client, "timeseries/", token, period=90, granularity="month"))
    assert all(p["date"].endswith("-01") for p in monthly["results"])
    assert sum(p["views"] for p in monthly["results"]) == 147


def test_object_stats_are_live_figures(client, fx, token):
    result = body(get(client, f"stats/testapp.article/{fx.alpha.pk}/", token))
    assert result["total_views"] == 118 and result["name"] == "Alpha"
    assert result["url"] == "/articles/alpha/"
    missing = get(client, "stats/testapp.article/999999/", token)
    assert missing.status_code == 404 and body(missing)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path, params, code",
    [
        ("top/", {"limit": "0"}, "invalid_limit"),
        ("top/", {"limit": "101"}, "invalid_limit"),
        ("top/", {"limit": "-5"}, "invalid_limit"),
        ("top/", {"page": "0"}, "invalid_page"),
        ("top/", {"since": "2024-02-30"}, "invalid_date"),
        ("top/", {"since": "yesterday"}, "invalid_date"),
        ("top/", {"since": "2024-03-02", "until": "2024-03-01"}, "invalid_range"),
        ("top/", {"period": "99999"}, "invalid_period"),
        ("top/", {"content_type": "testapp.untracked"}, "unknown_content_type"),
        ("top/", {"content_type": "auth.user"}, "unknown_content_type"),
        ("top/", {"content_type": "nope"}, "unknown_content_type"),
        ("timeseries/", {"granularity": "hour"}, "invalid_granularity"),
        ("timeseries/", {"object_id": "5"}, "missing_content_type"),
        (
            "timeseries/",
            {"content_type": "testapp.product", "object_id": "not-a-uuid"},
            "invalid_object_id",
        ),
        (
            "timeseries/",
            {"content_type": "testapp.article", "object_id": "abc"},
            "invalid_object_id",
        ),
        ("export/", {"format": "xlsx"}, "invalid_format"),
        ("export/", {"kind": "users"}, "invalid_kind"),
        ("stats/testapp.untracked/1/", {}, "unknown_content_type"),
        ("stats/testapp.product/xyz/", {}, "invalid_object_id"),
    ],
)
def test_bad_parameters_get_400_with_a_stable_code(client, token, path, params, code):
    response = get(client, path, token, **params)
    assert response.status_code == 400, response.content
    assert body(response)["error"]["code"] == code
    assert body(response)["error"]["message"]


def test_hostile_text_is_escaped_in_json(client, fx, token):
    response = get(client, "top/", token, period=7)
    raw = response.content
    assert b"<script>" not in raw and b"\\u003cscript\\u003e" in raw
    assert body(response)["results"][1]["name"] == data.HOSTILE[:200]  # still decodes exactly
    error = get(client, "top/", token, content_type="<script>x</script>")
    assert b"<script>" not in error.content


def test_openapi_schema_describes_every_endpoint(client):
    response = client.get(API + "schema/")
    assert response.status_code == 200
    schema = body(response)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/stats/{content_type}/{object_id}/",
        "/top/",
        "/timeseries/",
        "/summary/",
        "/audience/",
        "/export/",
    }
    assert schema["servers"][0]["url"] == "/djInsight/api"
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_export_endpoint_streams_ndjson(client, fx, token):
    response = get(client, "export/", token, period=7, kind="logs", format="ndjson")
    assert response.status_code == 200 and response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 3
    assert {r["referrer_domain"] for r in rows} == {
        "evil.example",
        data.HOSTILE_REFERRER,
    }


# -- query counts --------------------------------------------------------------------


def _objects(n: int) -> list[Article]:
    today = timezone.localdate()
    ct = ContentType.objects.get_for_model(Article)
    pct = ContentType.objects.get_for_model(Product)
    articles = []
    for i in range(n):
        article = data.with_figures(
            Article.objects.create(title=f"a{i}", slug=f"a{i}"), total_views=i
        )
        product = Product.objects.create(id=uuid.uuid4(), name=f"p{i}")
        for obj, t in ((article, ct), (product, pct)):
            PageViewSummary.objects.create(
                content_type=t, object_id=str(obj.pk), date=today, total_views=i + 1, unique_views=1
            )
        articles.append(article)
    rebuild_rollups()
    return articles


@pytest.mark.parametrize("objects", [1, 30])
def test_query_counts_with_a_token_do_not_grow_with_objects(
    client, token, django_assert_max_num_queries, objects
):
    articles = _objects(objects)
    ContentType.objects.get_for_model(Article)  # warm the content-type cache, as in production
    for path, budget in BUDGET.items():
        if path == "stats":
            path = f"stats/testapp.article/{articles[-1].pk}/"
        with django_assert_max_num_queries(TOKEN + budget):
            response = get(client, path, token, period=30, limit=100)
        assert response.status_code == 200, (path, response.content)
    results = body(get(client, "top/", token, period=30, limit=100))["results"]
    assert len(results) == 2 * objects


@pytest.mark.parametrize("objects", [1, 30])
def test_query_counts_with_a_session(client, django_assert_max_num_queries, objects):
    _objects(objects)
    client.force_login(data.analyst())
    with django_assert_max_num_queries(4 + BUDGET["top/"]):
        assert get(client, "top/", period=30, limit=100).status_code == 200
    with django_assert_max_num_queries(4 + BUDGET["summary/"]):
        assert get(client, "summary/").status_code == 200


@pytest.mark.parametrize("objects", [1, 30])
@pytest.mark.parametrize("kind", ["summaries", "logs"])
def test_export_query_count_does_not_grow_with_rows(
    client, token, django_assert_max_num_queries, objects, kind
):
    articles = _objects(objects)
    ct = ContentType.objects.get_for_model(Article)
    from djinsight.models import PageViewLog

    PageViewLog.objects.bulk_create(
        [
            PageViewLog(content_type=ct, object_id=str(a.pk), viewed_at=timezone.now())
            for a in articles
        ]
    )
    with django_assert_max_num_queries(TOKEN + 4):
        response = get(client, "export/", token, period=7, kind=kind, format="csv")
        rows = b"".join(response.streaming_content).decode().strip().splitlines()
    assert response.status_code == 200
    assert len(rows) == 1 + (2 * objects if kind == "summaries" else objects)
