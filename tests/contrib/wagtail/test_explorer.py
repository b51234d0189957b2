"""The page explorer's sortable "Views" column: live figures, constant cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import Page
from wagtail.test.utils import WagtailTestUtils

from tests.contrib.wagtail.conftest import add_blog_pages, flushed_views, views
from tests.templatetags.test_djinsight_tags import RoundTrips

pytestmark = pytest.mark.django_db


def explore(client, parent, **params):
    response = client.get(reverse("wagtailadmin_explore", args=[parent.pk]), params)
    assert response.status_code == 200
    return response


def table(response) -> tuple[list[str], list[list[str]]]:
    soup = WagtailTestUtils.get_soup(response.content)
    listing = soup.select_one("#listing-results table")
    headers = [" ".join(th.get_text().split()) for th in listing.select("thead th")]
    rows = [
        [" ".join(td.get_text().split()) for td in tr.find_all("td")]
        for tr in listing.select("tbody tr")
    ]
    return headers, rows


def views_by_title(response) -> dict[str, str]:
    headers, rows = table(response)
    title = next(i for i, h in enumerate(headers) if h.startswith("Title"))
    column = headers.index("Views")
    return {" ".join(row[title].split(" ")[:2]): row[column] for row in rows}


@pytest.fixture
def section(home, client):
    """A section of three posts: 4 views flushed + 1 in Redis, 7 in Redis only, none."""
    (news,) = add_blog_pages(home, 1, "news")
    first, second, third = add_blog_pages(news, 3)
    flushed_views(client, first, 4)
    views(client, first, 1, first=4)
    views(client, second, 7)
    news.add_child(instance=Page(title="Plain page", slug="plain"))  # an untracked type
    return news


def test_the_column_shows_live_totals(client, analyst, section):
    client.force_login(analyst)
    figures = views_by_title(explore(client, section))
    assert figures == {"Post 0": "5", "Post 1": "7", "Post 2": "0", "Plain page": ""}


@pytest.mark.parametrize(
    ("ordering", "order"),
    [
        ("-djinsight_views", ["Post 1", "Post 0", "Post 2", "Plain page"]),
        ("djinsight_views", ["Post 2", "Plain page", "Post 0", "Post 1"]),
    ],
)
def test_the_column_sorts_by_the_flushed_totals(client, analyst, section, ordering, order):
    from djinsight.pipeline import flush

    flush.process_pageviews()  # sorting reads the flushed figures
    client.force_login(analyst)
    response = explore(client, section, ordering=ordering)
    assert list(views_by_title(response)) == order


def test_editors_without_the_permission_see_no_column(client, editor, section):
    client.force_login(editor)
    headers, _ = table(explore(client, section))
    assert "Views" not in headers
    # and can't sort by it either: the ordering is ignored, not an error
    assert explore(client, section, ordering="-djinsight_views").status_code == 200


def listing_cost(client, parent, monkeypatch) -> tuple[int, int]:
    explore(client, parent)  # warm up
    trips = RoundTrips(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        explore(client, parent, ordering="-djinsight_views")
    monkeypatch.undo()
    return len(queries), trips.count


def test_a_listing_page_costs_the_same_for_1_child_and_50(client, analyst, home, monkeypatch):
    client.force_login(analyst)
    (one,) = add_blog_pages(home, 1, "one")
    (child,) = add_blog_pages(one, 1)
    flushed_views(client, child, 1)
    (fifty,) = add_blog_pages(home, 1, "fifty")
    children = add_blog_pages(fifty, 50)
    for page in children[:10]:
        flushed_views(client, page, 1)
    for page in children[5:20]:
        views(client, page, 1, first=1)
    small = listing_cost(client, one, monkeypatch)
    large = listing_cost(client, fifty, monkeypatch)
    print(f"explorer: 1 child {small[0]} SQL/{small[1]} Redis; 50 children {large[0]}/{large[1]}")
    assert small == large
    assert large[1] == 1
