"""The "Page views" report: filters, sorting, pagination, export, permissions, query counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.test.utils import WagtailTestUtils

from djinsight.pipeline.rollups import rebuild_rollups
from tests.analytics_data import summary
from tests.contrib.wagtail.conftest import add_blog_pages
from tests.testapp.models import BlogPage

pytestmark = pytest.mark.django_db

REPORT = "djinsight_wagtail:page_views"


@pytest.fixture
def site(home):
    """News (a section with two posts) and About, with views over the last 14 days.

    Last 7 days: news 6, post-0 10 (unique 4), post-1 2, about 3.
    The 7 days before: post-0 5, about 6.
    """
    today = timezone.localdate()
    day = lambda n: today - timedelta(days=n)  # noqa: E731
    (news,) = add_blog_pages(home, 1, "news")
    post0, post1 = add_blog_pages(news, 2)
    (about,) = add_blog_pages(home, 1, "about")
    summary(news, day(0), 6, 6)
    summary(post0, day(0), 7, 3)
    summary(post0, day(3), 3, 1)
    summary(post0, day(9), 5, 5)
    summary(post1, day(1), 2, 2)
    summary(about, day(2), 3, 3)
    summary(about, day(8), 6, 6)
    rebuild_rollups()
    return {"news": news, "post0": post0, "post1": post1, "about": about}


def rows(response) -> list[list[str]]:
    soup = WagtailTestUtils.get_soup(response.content)
    table = soup.select_one("#listing-results table") or soup.find("table", class_="listing")
    assert table is not None, response.content.decode()[-3000:]
    return [
        [" ".join(td.get_text().split()) for td in tr.find_all("td")]
        for tr in table.find("tbody").find_all("tr")
    ]


def get(client, **params):
    return client.get(reverse(REPORT), params)


def test_an_editor_holding_the_permission_sees_the_figures(client, analyst, site):
    assert not analyst.is_staff
    client.force_login(analyst)
    response = get(client, period="7")
    assert response.status_code == 200
    assert rows(response) == [
        ["Post 0", "Blog page", "10", "4", "+100.0%", "/pages/news-0/post-0/"],
        ["News 0", "Blog page", "6", "6", "new", "/pages/news-0/"],
        ["About 0", "Blog page", "3", "3", "\u221250.0%", "/pages/about-0/"],
        ["Post 1", "Blog page", "2", "2", "new", "/pages/news-0/post-1/"],
    ]
    soup = WagtailTestUtils.get_soup(response.content)
    first = soup.select_one("#listing-results tbody tr")
    edit = reverse("wagtailadmin_pages:edit", args=[site["post0"].pk])
    assert first.select_one("td.title a")["href"] == edit
    assert first.select_one('a[target="_blank"]')["href"] == "/pages/news-0/post-0/"


def test_the_default_period_is_30_days_and_the_subtitle_says_which(client, analyst, site):
    client.force_login(analyst)
    response = get(client)
    figures = {r[0]: r[2:5] for r in rows(response)}
    # post-0's views 9 days ago are in the last 30 days, and nothing is before
    assert figures["Post 0"] == ["15", "9", "new"]
    assert figures["About 0"] == ["9", "9", "new"]
    today = timezone.localdate()
    assert (today - timedelta(days=29)).strftime("%m/%d/%Y") in response.content.decode()


def test_a_custom_range(client, analyst, site):
    client.force_login(analyst)
    today = timezone.localdate()
    response = get(
        client,
        dates_from=(today - timedelta(days=9)).isoformat(),
        dates_to=(today - timedelta(days=8)).isoformat(),
    )
    figures = {r[0]: r[2] for r in rows(response)}
    assert figures == {"Post 0": "5", "About 0": "6", "News 0": "0", "Post 1": "0"}


def test_a_reversed_range_is_explained_not_a_500(client, analyst, site):
    client.force_login(analyst)
    today = timezone.localdate()
    response = get(client, dates_from=today.isoformat(), dates_to="2000-01-01")
    assert response.status_code == 200
    assert "is after" in response.content.decode()
    assert len(rows(response)) == 4  # the last 30 days instead


def test_filter_by_section_and_page_type(client, analyst, site):
    client.force_login(analyst)
    section = [r[0] for r in rows(get(client, section=site["news"].pk))]
    assert section == ["Post 0", "News 0", "Post 1"]
    from django.contrib.contenttypes.models import ContentType

    blog = ContentType.objects.get_for_model(BlogPage)
    assert len(rows(get(client, content_type=blog.pk))) == 4


@pytest.mark.parametrize(
    ("ordering", "titles"),
    [
        ("views", ["Post 1", "About 0", "News 0", "Post 0"]),
        ("-unique", ["News 0", "Post 0", "About 0", "Post 1"]),
        ("title", ["About 0", "News 0", "Post 0", "Post 1"]),
        # pages without a previous period last, in either direction
        ("-change", ["Post 0", "About 0", "News 0", "Post 1"]),
        ("change", ["About 0", "Post 0", "News 0", "Post 1"]),
    ],
)
def test_sortable_columns(client, analyst, site, ordering, titles):
    client.force_login(analyst)
    assert [r[0] for r in rows(get(client, period="7", ordering=ordering))] == titles


def test_pagination(client, analyst, home):
    add_blog_pages(home, 55)
    client.force_login(analyst)
    assert len(rows(get(client))) == 50
    second = get(client, p="2")
    assert len(rows(second)) == 5
    assert "Page 2 of 2" in second.content.decode()


def test_csv_export(client, analyst, site):
    client.force_login(analyst)
    response = get(client, period="7", export="csv")
    assert response.status_code == 200
    assert "page-views-" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == [
        "Title",
        "Type",
        "Views",
        "Unique visitors",
        "Views, previous period",
        "Change (%)",
        "URL",
    ]
    assert table[1] == ["Post 0", "Blog page", "10", "4", "5", "100.0", "/pages/news-0/post-0/"]
    assert table[2][:6] == ["News 0", "Blog page", "6", "6", "0", ""]
    assert len(table) == 5


def test_xlsx_export(client, analyst, site):
    client.force_login(analyst)
    response = get(client, period="7", export="xlsx", ordering="title")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][:3] == ("Title", "Type", "Views")
    assert values[1][:5] == ("About 0", "Blog page", 3, 3, 6)


def test_without_the_permission_there_is_no_report(client, editor, site):
    client.force_login(editor)
    response = get(client)
    assert response.status_code in (302, 403)
    assert b"Post 0" not in response.content


def test_the_reports_menu_offers_it_only_to_holders(client, analyst, editor):
    from django.test import RequestFactory
    from wagtail.admin.menu import admin_menu

    def labels(user):
        request = RequestFactory().get("/cms/")
        request.user = user
        reports = next(i for i in admin_menu.menu_items_for_request(request) if i.name == "reports")
        return [item.label for item in reports.menu.menu_items_for_request(request)]

    assert "Page views" in labels(analyst)
    assert "Page views" not in labels(editor)


def report_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert get(client, **params).status_code == 200
    return len(queries)


def test_a_report_page_costs_the_same_queries_for_1_page_and_50(client, analyst, home):
    client.force_login(analyst)
    (first,) = add_blog_pages(home, 1, "first")
    summary(first, timezone.localdate(), 3, 3)
    rebuild_rollups()
    report_queries(client)  # warm the content type and site caches
    one = report_queries(client)
    for page in add_blog_pages(home, 49):
        summary(page, timezone.localdate(), 1, 1)
    rebuild_rollups()
    fifty = report_queries(client)
    print(f"report page: {one} queries for 1 page, {fifty} for 50")
    assert one == fifty
