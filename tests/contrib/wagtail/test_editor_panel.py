"""The page editor's "Page views" side panel: live figures, a 30-day sparkline, permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page
from wagtail.test.utils import WagtailTestUtils

from djinsight.pipeline.rollups import rebuild_rollups
from tests.analytics_data import summary, with_figures
from tests.contrib.wagtail.conftest import add_blog_pages, flushed_views, views
from tests.templatetags.test_djinsight_tags import RoundTrips

pytestmark = pytest.mark.django_db

PANEL = '[data-side-panel="djinsight-page-views"]'


@pytest.fixture
def page(home):
    (page,) = add_blog_pages(home, 1)
    return page


def edit(client, page):
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    return WagtailTestUtils.get_soup(response.content)


def stat(panel, kind: str) -> str:
    return " ".join(panel.select_one(f'[data-djinsight-stat="{kind}"]').get_text().split())


def test_the_panel_shows_live_figures_flushed_or_not(client, analyst, page):
    flushed_views(client, page, 3)
    views(client, page, 2, first=3)  # in Redis only
    client.force_login(analyst)
    soup = edit(client, page)
    panel = soup.select_one(PANEL)
    assert panel is not None
    assert soup.select_one('[data-side-panel-toggle="djinsight-page-views"]') is not None
    assert stat(panel, "total_views") == "5"
    assert stat(panel, "unique_views") == "5"
    assert stat(panel, "views_today") == "5"
    assert stat(panel, "views_week") == "5"
    assert stat(panel, "last_viewed_at") != "never"
    assert panel.select_one("svg.djinsight-sparkline") is not None
    assert "5 views" in panel.get_text()


def test_the_sparkline_spans_30_days_of_summaries_when_redis_holds_no_counter(
    client, analyst, page
):
    today = timezone.localdate()
    summary(page, today - timedelta(days=20), 4, 4)
    summary(page, today - timedelta(days=40), 50, 50)  # outside the 30 days
    rebuild_rollups()
    with_figures(page, total_views=54, unique_views=54)
    client.force_login(analyst)
    panel = edit(client, page).select_one(PANEL)
    assert stat(panel, "total_views") == "54"
    assert "4 views" in panel.get_text()
    title = panel.select_one("svg.djinsight-sparkline title").get_text()
    assert (today - timedelta(days=20)).strftime("%b %d") + ": 4" in title


def test_the_panel_costs_one_redis_round_trip(client, analyst, page, monkeypatch):
    flushed_views(client, page, 2)
    views(client, page, 1, first=2)
    client.force_login(analyst)
    edit(client, page)  # warm up: scripts loaded
    trips = RoundTrips(monkeypatch)
    panel = edit(client, page).select_one(PANEL)
    assert stat(panel, "total_views") == "3"
    assert trips.count == 1


def test_editors_without_the_permission_have_no_panel(client, editor, page):
    client.force_login(editor)
    soup = edit(client, page)
    assert soup.select_one(PANEL) is None
    assert soup.select_one('[data-side-panel-toggle="djinsight-page-views"]') is None


def test_untracked_page_types_have_no_panel(client, home):
    client.force_login(WagtailTestUtils.create_superuser("admin", password="pw"))
    plain = home.add_child(instance=Page(title="Plain", slug="plain"))
    assert edit(client, plain).select_one(PANEL) is None
