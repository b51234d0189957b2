from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from djinsight.querysets import ViewStatsManager, ViewStatsQuerySet, period_bounds
from tests import analytics_data as data
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db


def articles():
    return ViewStatsQuerySet(Article)


def products():
    return ViewStatsQuerySet(Product)


@pytest.fixture
def fx():
    return data.build()


def test_with_views_sums_summaries_over_the_last_n_days(fx):
    rows = {a.slug: (a.views, a.views_unique) for a in articles().with_views(7)}
    assert rows == {"alpha": (15, 6), "hostile": (7, 7)}
    rows = {a.slug: a.views for a in articles().with_views(14)}
    assert rows == {"alpha": 18, "hostile": 27}
    assert {a.slug: a.views for a in articles().with_views("all")} == {"alpha": 118, "hostile": 27}
    assert articles().with_views("today").get(slug="alpha").views == 10


def test_with_views_accepts_a_date_pair_and_a_custom_name(fx):
    day = fx.today - timedelta(days=1)
    row = articles().with_views((day, day), name="yesterday").get(slug="alpha")
    assert (row.yesterday, row.yesterday_unique) == (5, 2)


def test_with_views_works_for_uuid_primary_keys(fx):
    product = products().with_views(7).get()
    assert (product.views, product.views_unique) == (2, 1)


def test_popular_orders_by_views_and_skips_unviewed(fx):
    Article.objects.create(title="Never", slug="never")
    assert [(a.slug, a.views) for a in articles().popular(days=7)] == [
        ("alpha", 15),
        ("hostile", 7),
    ]
    assert [a.slug for a in articles().popular(days=1)] == ["alpha"]


def test_trending_keeps_only_growing_objects(fx):
    rows = [(a.slug, a.views, a.previous_views, a.growth) for a in articles().trending(days=7)]
    assert rows == [("alpha", 15, 3, 12)]
    assert [(p.views, p.previous_views) for p in products().trending(days=7)] == [(2, 0)]


def test_helpers_run_in_one_query_whatever_the_number_of_objects(fx):
    for i in range(30):
        data.summary(Article.objects.create(title=f"a{i}", slug=f"a{i}"), fx.today, i + 1, 1)
    list(articles().popular())  # warm the content-type cache
    with CaptureQueriesContext(connection) as ctx:
        rows = list(articles().popular(days=7))
        trend = list(articles().trending(days=7))
    assert len(ctx) == 2
    assert len(rows) == 32 and rows[0].views == 30
    assert len(trend) == 31


def test_manager_exposes_the_helpers():
    manager = ViewStatsManager()
    manager.model = Article
    assert hasattr(manager, "popular") and hasattr(manager, "trending")
    assert isinstance(manager.get_queryset(), ViewStatsQuerySet)


def test_bad_periods_are_rejected():
    for bad in (0, -3, "fortnight", True):
        with pytest.raises(ValueError):
            period_bounds(bad)
