import json
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from djinsight.models import (
    ApiToken,
    FlushLedger,
    PageViewDimensionTotal,
    PageViewLog,
    PageViewSummary,
)
from djinsight.pipeline.rollups import rebuild_dimension_totals, rebuild_rollups
from djinsight.reports import dashboard, queries
from djinsight.reports.params import BadParameter, DateRange
from tests import analytics_data as data
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/djinsight/pageviewsummary/analytics/"
EXPORT = "/admin/djinsight/pageviewsummary/analytics/export/"
# session + user + user permissions + group permissions, then 15 report queries
# (13 panels, the previous period's series, objects viewed per content type),
# content types (1) and one per content type shown (2 here: Article, Product).
DASHBOARD_QUERIES = 4 + 15 + 1 + 2


@pytest.fixture
def fx():
    return data.build()


@pytest.fixture
def analyst_client(client):
    client.force_login(data.analyst())
    return client


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.S)
    assert match, section_id
    return match.group(1)


# -- permissions -------------------------------------------------------------------


def test_dashboard_redirects_anonymous_to_login(client, fx):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_dashboard_refuses_staff_without_view_analytics(client, fx):
    client.force_login(data.staff_without_permission())
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_dashboard_refuses_non_staff_holding_the_permission(client, fx):
    user = data.analyst()
    user.is_staff = False
    user.save()
    client.force_login(user)
    assert client.get(DASHBOARD).status_code == 302  # admin_view sends non-staff to login


def test_log_and_summary_admins_are_read_only(admin_client, fx):
    assert admin_client.get("/admin/djinsight/pageviewlog/").status_code == 200
    assert admin_client.get("/admin/djinsight/pageviewsummary/").status_code == 200
    assert admin_client.get("/admin/djinsight/flushledger/").status_code == 200
    assert admin_client.get("/admin/djinsight/pageviewlog/add/").status_code == 403
    assert admin_client.get("/admin/djinsight/pageviewsummary/add/").status_code == 403
    log = PageViewLog.objects.first()
    response = admin_client.post(f"/admin/djinsight/pageviewlog/{log.pk}/change/", {"path": "/x/"})
    assert response.status_code == 403
    response = admin_client.post(f"/admin/djinsight/pageviewlog/{log.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert PageViewLog.objects.filter(pk=log.pk, path=log.path).exists()


# -- figures -----------------------------------------------------------------------


def test_report_figures_match_the_hand_computed_fixture(fx):
    rng = DateRange.last(7)
    d = dashboard.dashboard(rng)
    assert (d.totals.views, d.totals.unique) == (24, 14)
    assert (d.totals.previous_views, d.totals.previous_unique) == (23, 6)
    assert d.totals.views_per_visitor == round(24 / 14, 2)
    assert d.totals.views_change == round(100 / 23, 1)
    assert d.totals.returning == 10
    assert [(r.name, r.views, r.unique) for r in d.top] == [
        ("Alpha", 15, 6),
        (data.HOSTILE[:200], 7, 7),
        ("Product: Widget", 2, 1),
    ]
    assert [(r.name, r.views, r.previous_views) for r in d.trending] == [
        ("Alpha", 15, 3),
        ("Product: Widget", 2, 0),
    ]
    assert d.trending[0].growth_percent == 400.0
    assert d.trending[1].growth_percent is None
    assert [(t.label, t.views, t.unique, t.previous_views, t.objects) for t in d.types] == [
        ("testapp.article", 22, 13, 23, 2),
        ("testapp.product", 2, 1, 0, 1),
    ]
    per_type = {t.label: [r.name for r in rows] for t, rows in d.per_type}
    assert per_type == {
        "testapp.article": ["Alpha", data.HOSTILE[:200]],
        "testapp.product": ["Product: Widget"],
    }
    assert d.referrers == [("evil.example", 2), (data.HOSTILE_REFERRER, 1)]
    assert d.paths == [("/a/", 2), (data.HOSTILE_PATH, 1)]
    assert d.browsers == [("Firefox", 2), ("Chrome", 1)]
    assert d.oses == [("Linux", 1), ("Mac OS X", 1), ("Windows", 1)]
    assert d.devices == [("Other", 2), ("iPhone", 1)]
    assert d.hours[9] == 2 and d.hours[22] == 1 and sum(d.hours) == 3
    assert [p.views for p in d.series] == [0, 0, 0, 0, 7, 5, 12]
    assert [p.unique for p in d.series] == [0, 0, 0, 0, 7, 2, 5]
    assert d.top[0].admin_url == f"/admin/testapp/article/{fx.alpha.pk}/change/"
    assert d.top[0].url == "/articles/alpha/"


def test_weekly_and_monthly_series_bucket_from_monday_and_the_first(fx):
    today = fx.today
    rng = DateRange(today - timedelta(days=59), today)
    weekly = queries.series(rng, "week")
    assert all(p.start.weekday() == 0 for p in weekly)
    assert sum(p.views for p in weekly) == 24 + 23 + 100
    week = {p.start: p.views for p in weekly}
    assert week[today - timedelta(days=today.weekday())] == sum(
        v
        for n, v in [(0, 12), (1, 5), (2, 7)]
        if (today - timedelta(days=n)).weekday() <= today.weekday()
        and today - timedelta(days=n) >= today - timedelta(days=today.weekday())
    )
    monthly = queries.series(rng, "month")
    assert all(p.start.day == 1 for p in monthly)
    assert sum(p.views for p in monthly) == 147


def test_dashboard_page_shows_every_panel_with_the_fixture_figures(analyst_client, fx):
    response = analyst_client.get(DASHBOARD, {"period": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    totals = section(html, "djinsight-totals")
    assert re.search(r'id="total-views">.*?class="value">24<', totals, re.S)
    assert re.search(r'id="total-unique">.*?class="value">14<', totals, re.S)
    assert re.search(r'id="total-ratio">.*?class="value">1.71<', totals, re.S)
    assert '<span class="previous">23</span>' in totals
    assert "4.3%" in totals
    assert "<svg" in section(html, "djinsight-series")
    top = section(html, "djinsight-top")
    assert top.index("Alpha") < top.index("Product: Widget")
    assert f'href="/admin/testapp/article/{fx.alpha.pk}/change/"' in top
    assert "400.0%" in section(html, "djinsight-trending")
    types = section(html, "djinsight-types")
    assert re.search(r'data-type="testapp.article"><td>articles</td><td class="num">22<', types)
    assert "10 returning views" in section(html, "djinsight-visitors")
    assert "evil.example" in section(html, "djinsight-referrers")
    assert "Firefox" in section(html, "djinsight-browsers")
    assert "iPhone" in section(html, "djinsight-devices")
    assert "Mac OS X" in section(html, "djinsight-oses")
    assert "<title>09: 2</title>" in section(html, "djinsight-hours")
    assert "<title>22: 1</title>" in section(html, "djinsight-hours")
    assert "old.example" not in html  # outside the range


def test_dashboard_shows_the_capped_figure(analyst_client, fx):
    from django.test import override_settings

    from djinsight.tracking.references import sign

    article = Article.objects.create(title="Capped", slug="capped")
    with override_settings(DJINSIGHT_RATE_LIMIT={"views": 2}):
        for n in range(5):
            response = analyst_client.post(
                "/djInsight/record/",
                data=json.dumps({"ref": sign(article)}),
                content_type="text/plain",
                REMOTE_ADDR="198.51.100.7",
                HTTP_USER_AGENT=f"Mozilla/5.0 (X11) a{n}",
            )
            assert response.status_code == 204
    totals = section(analyst_client.get(DASHBOARD).content.decode(), "djinsight-totals")
    assert re.search(r'id="total-capped".*?class="value">3<', totals, re.S)
    assert '<span class="capped-views">3</span>' in totals


def test_dashboard_escapes_hostile_titles_referrers_and_paths(analyst_client, fx):
    html = analyst_client.get(DASHBOARD, {"period": "7"}).content.decode()
    assert "<script>" not in html
    assert "onerror=alert" not in html or "&lt;img" in html
    assert "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html


def test_dashboard_custom_range_and_bad_parameters(analyst_client, fx):
    since = (fx.today - timedelta(days=1)).isoformat()
    response = analyst_client.get(DASHBOARD, {"since": since, "until": fx.today.isoformat()})
    assert re.search(r'id="total-views">.*?class="value">17<', response.content.decode(), re.S)
    for params in (
        {"since": "2024-13-45"},
        {"period": "0"},
        {"granularity": "hour"},
        {"since": "2024-05-02", "until": "2024-05-01"},
        {"period": "x" * 5000},
    ):
        response = analyst_client.get(DASHBOARD, params)
        assert response.status_code == 200, params
        assert 'id="djinsight-error"' in response.content.decode()


@pytest.mark.parametrize("objects", [1, 30])
def test_dashboard_query_count_does_not_grow_with_objects(
    analyst_client, django_assert_max_num_queries, objects
):
    today = timezone.localdate()
    ct = ContentType.objects.get_for_model(Article)
    pct = ContentType.objects.get_for_model(Product)
    for i in range(objects):
        article = Article.objects.create(title=f"a{i}", slug=f"a{i}")
        product = Product.objects.create(name=f"p{i}")
        PageViewSummary.objects.create(
            content_type=ct,
            object_id=str(article.pk),
            date=today,
            total_views=i + 1,
            unique_views=1,
        )
        PageViewSummary.objects.create(
            content_type=pct,
            object_id=str(product.pk),
            date=today,
            total_views=i + 1,
            unique_views=1,
        )
        data.log(article, timezone.now(), referrer_domain=f"r{i}.example", browser=f"b{i}")
    rebuild_rollups()
    rebuild_dimension_totals(PageViewLog, PageViewDimensionTotal)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = analyst_client.get(DASHBOARD, {"period": "30", "granularity": "week"})
    assert response.status_code == 200
    assert "a0" in response.content.decode()


# -- exports from the admin ----------------------------------------------------------


def test_admin_export_streams_csv_with_injection_neutralised(analyst_client, fx):
    response = analyst_client.get(EXPORT, {"kind": "logs", "format": "csv", "period": "7"})
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    assert body.count("\n") == 4  # header + three logs in range
    assert "'\"><script>" not in body  # quotes are CSV-quoted, not prefixed
    assert "old.example" not in body


def test_admin_export_rejects_bad_parameters_with_400(analyst_client, fx):
    assert analyst_client.get(EXPORT, {"format": "xlsx"}).status_code == 400
    assert analyst_client.get(EXPORT, {"since": "nope"}).status_code == 400


# -- API tokens in the admin ---------------------------------------------------------


def test_token_created_in_admin_is_shown_once_and_stored_hashed(admin_client):
    response = admin_client.post(
        "/admin/djinsight/apitoken/add/", {"name": "ci", "is_active": "on"}, follow=True
    )
    assert response.status_code == 200
    shown = re.search(r"(dji_[A-Za-z0-9_\-]+)", response.content.decode()).group(1)
    token = ApiToken.objects.get(name="ci")
    assert token.key_hash == ApiToken.hash(shown)
    assert shown not in token.key_hash and token.prefix == shown[:12]
    page = admin_client.get(f"/admin/djinsight/apitoken/{token.pk}/change/").content.decode()
    assert shown not in page


# -- ViewStatisticsAdminMixin ---------------------------------------------------------


def test_mixin_adds_sortable_views_column(admin_client, fx):
    response = admin_client.get("/admin/testapp/article/", {"o": "-3"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "column-views_column" in html and "sortable" in html
    assert html.index("Alpha") < html.index("hostile") or html.index("Alpha") < html.index(
        "&lt;script"
    )


def test_mixin_change_page_shows_the_objects_daily_views(
    admin_client, fx, django_assert_max_num_queries
):
    response = admin_client.get(f"/admin/testapp/article/{fx.alpha.pk}/change/")
    html = response.content.decode()
    assert "djinsight-object-chart" in html
    assert f"<title>{fx.today.isoformat()}: 10 views</title>" in html
    hostile = admin_client.get(f"/admin/testapp/article/{fx.hostile.pk}/change/").content.decode()
    assert "<script>alert" not in hostile


def test_mixin_chart_works_for_uuid_primary_keys(admin_client, fx):
    response = admin_client.get(f"/admin/testapp/product/{fx.product.pk}/change/")
    assert f"<title>{fx.today.isoformat()}: 2 views</title>" in response.content.decode()
    assert admin_client.get(f"/admin/testapp/product/{uuid.uuid4()}/change/").status_code == 302


# -- parameters ------------------------------------------------------------------------


def test_date_range_parameters():
    assert DateRange.from_params({"period": "7"}).days == 7
    assert DateRange.from_params({}).days == 30
    assert DateRange.from_params({"since": "2024-01-01", "until": "2024-01-31"}).days == 31
    assert DateRange(
        timezone.localdate(), timezone.localdate()
    ).previous().until == timezone.localdate() - timedelta(days=1)
    for bad, code in [
        ({"period": "-1"}, "invalid_period"),
        ({"since": "2024-02-30"}, "invalid_date"),
        ({"since": "2024-02-02", "until": "2024-02-01"}, "invalid_range"),
        ({"since": "1000-01-01", "until": "2024-01-01"}, "invalid_date"),
    ]:
        with pytest.raises(BadParameter) as info:
            DateRange.from_params(bad)
        assert info.value.code == code


def test_unused_models_stay_importable():
    assert FlushLedger._meta.app_label == "djinsight"


@pytest.mark.parametrize("objects", [1, 30])
def test_admin_export_query_count_does_not_grow_with_rows(
    analyst_client, django_assert_max_num_queries, objects
):
    ct = ContentType.objects.get_for_model(Article)
    today = timezone.localdate()
    for i in range(objects):
        article = Article.objects.create(title=f"e{i}", slug=f"e{i}")
        PageViewSummary.objects.create(
            content_type=ct, object_id=str(article.pk), date=today, total_views=1
        )
    with django_assert_max_num_queries(4 + 4):  # session, user, permissions + the export
        response = analyst_client.get(EXPORT, {"kind": "summaries", "format": "csv", "period": "7"})
        rows = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(rows) == 1 + objects
