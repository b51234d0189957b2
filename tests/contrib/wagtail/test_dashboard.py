"""The "Most viewed pages" panel on the Wagtail dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils import WagtailTestUtils

from djinsight.pipeline.rollups import rebuild_rollups
from tests.analytics_data import summary
from tests.contrib.wagtail.conftest import add_blog_pages

pytestmark = pytest.mark.django_db

PANEL = "#djinsight-most-viewed-section"


def dashboard(client):
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    return WagtailTestUtils.get_soup(response.content)


def test_holders_see_the_most_viewed_pages_of_the_last_7_days(client, analyst, home):
    today = timezone.localdate()
    pages = add_blog_pages(home, 7)
    for i, page in enumerate(pages):
        summary(page, today - timedelta(days=1), i + 1, 1)
    summary(pages[0], today - timedelta(days=10), 100, 100)  # before the 7 days
    rebuild_rollups()
    client.force_login(analyst)
    panel = dashboard(client).select_one(PANEL)
    assert panel is not None
    rows = [[" ".join(td.get_text().split()) for td in tr("td")] for tr in panel.select("tbody tr")]
    assert rows == [
        ["Post 6", "7", "1", "Live"],
        ["Post 5", "6", "1", "Live"],
        ["Post 4", "5", "1", "Live"],
        ["Post 3", "4", "1", "Live"],
        ["Post 2", "3", "1", "Live"],
    ]
    edit = reverse("wagtailadmin_pages:edit", args=[pages[6].pk])
    assert panel.select_one("tbody td.title a")["href"] == edit
    assert reverse("djinsight_wagtail:page_views") in str(panel)


def test_an_empty_week_says_so(client, analyst, home):
    client.force_login(analyst)
    panel = dashboard(client).select_one(PANEL)
    assert "No page views were recorded" in panel.get_text()


def test_editors_without_the_permission_have_no_panel(client, editor, home):
    client.force_login(editor)
    assert dashboard(client).select_one(PANEL) is None
