"""Humans and bots apart in reports: the dashboard panel and the API's audience/."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from djinsight.models import ApiToken, PageViewBotSummary, PageViewSummary
from djinsight.pipeline.rollups import rebuild_rollups
from djinsight.reports import audience
from djinsight.reports.params import DateRange
from tests import analytics_data as data
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db

API = "/djInsight/api/audience/"
DASHBOARD = "/admin/djinsight/pageviewsummary/analytics/"


@pytest.fixture
def fx():
    """Two articles and a product: human views in summaries, bot views by kind."""
    today = timezone.localdate()
    a = Article.objects.create(title="A", slug="a")
    b = Article.objects.create(title="B", slug="b")
    p = Product.objects.create(name="P")
    article, product = ContentType.objects.get_for_models(Article, Product).values()
    for ct, obj, views in ((article, a, 10), (article, b, 5), (product, p, 1)):
        PageViewSummary.objects.create(
            content_type=ct, object_id=str(obj.pk), date=today, total_views=views, unique_views=1
        )
    bots = [
        (article, a, today, "search", 3),
        (article, a, today, "ai", 4),
        (article, a, today - timedelta(days=40), "ai", 100),  # outside a 30-day range
        (article, b, today, "other", 2),
        (product, p, today, "ai", 7),
    ]
    for ct, obj, day, kind, views in bots:
        PageViewBotSummary.objects.create(
            content_type=ct, object_id=str(obj.pk), date=day, kind=kind, views=views
        )
    rebuild_rollups()
    return a, article


def test_audience_of_everything_a_type_and_one_object(fx):
    a, article = fx
    rng = DateRange.last(30)
    everything = audience.audience(rng)
    assert everything.as_dict() == {"human": 16, "search": 3, "ai": 11, "other": 2}
    assert everything.bot_percent == round(16 * 100 / 32, 1)
    assert audience.audience(rng, article).as_dict() == {
        "human": 15,
        "search": 3,
        "ai": 4,
        "other": 2,
    }
    one = audience.audience(rng, article, str(a.pk))
    assert one.as_dict() == {"human": 10, "search": 3, "ai": 4, "other": 0}


def test_api_audience_for_an_object_and_a_range(client, fx):
    a, _article = fx
    token = ApiToken.generate("tests")[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    params = {"content_type": "testapp.article", "object_id": str(a.pk), "period": 30}
    answer = json.loads(client.get(API, params, **headers).content)
    assert (answer["human"], answer["search"], answer["ai"], answer["other"]) == (10, 3, 4, 0)
    assert answer["object_id"] == str(a.pk)
    old = (timezone.localdate() - timedelta(days=40)).isoformat()
    params = {**params, "since": old, "until": old}
    del params["period"]
    answer = json.loads(client.get(API, params, **headers).content)
    assert (answer["human"], answer["ai"]) == (0, 100)
    bad = client.get(API, {"object_id": "1"}, **headers)
    assert bad.status_code == 400
    assert json.loads(bad.content)["error"]["code"] == "missing_content_type"


def test_bot_summary_admin_lists_rows_and_is_read_only(admin_client, fx):
    page = admin_client.get("/admin/djinsight/pageviewbotsummary/", {"kind": "ai"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 3
    assert admin_client.get("/admin/djinsight/pageviewbotsummary/add/").status_code == 403


def test_dashboard_shows_humans_and_bots_apart(client, fx):
    client.force_login(data.analyst())
    html = client.get(DASHBOARD, {"period": "30"}).content.decode()
    panel = re.search(r'<section id="djinsight-audience">(.*?)</section>', html, re.S).group(1)
    figures = dict(re.findall(r'id="audience-(\w+)">.*?class="value">(\d+)<', panel, re.S))
    assert figures == {"human": "16", "search": "3", "ai": "11", "other": "2"}
    assert "50.0%" in panel
    totals = re.search(r'<section id="djinsight-totals">(.*?)</section>', html, re.S).group(1)
    assert re.search(r'id="total-views">.*?class="value">16<', totals, re.S)  # humans only
