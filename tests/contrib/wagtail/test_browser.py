"""In a real Chromium: editing with the preview panel open counts no view; the report shows
the views the page's visitors made."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from djinsight.pipeline import flush
from djinsight.stats import get_object_stats
from tests.contrib.wagtail.conftest import add_blog_pages
from tests.tracking.test_browser import (
    UA_A,
    UA_B,
    browser,  # noqa: F401 (the shared Chromium fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


SHOWS_TITLE = """title => [...document.querySelectorAll("iframe.w-preview__iframe")].some(
    frame => frame.contentDocument?.querySelector("h1")?.textContent === title
)"""


def test_the_preview_panel_counts_nothing_and_the_report_shows_the_visits(
    live_server,
    browser,  # noqa: F811
    client,
    analyst,
    home,
):
    (page,) = add_blog_pages(home, 1)
    # people's browsers: headless Chromium's own User-Agent is a bot's, never counted
    visitor = browser.new_context(user_agent=UA_A)
    visitor.new_page().goto(live_server.url + page.url)
    assert wait_for(lambda: get_object_stats(page).total_views == 1)
    visitor.close()

    client.force_login(analyst)
    editor = browser.new_context(user_agent=UA_B)
    editor.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    tab = editor.new_page()
    previews = []
    tab.on("request", lambda r: previews.append(r.url) if "/preview/" in r.url else None)
    tab.goto(live_server.url + reverse("wagtailadmin_pages:edit", args=[page.pk]))
    tab.click('[data-side-panel-toggle="preview"]')
    tab.wait_for_function(SHOWS_TITLE, arg="Post 0", polling=100)
    tab.fill("#id_title", "Edited with the preview open")
    # what Wagtail's unsaved-changes controller sends on an edit: the preview goes stale
    tab.evaluate('() => document.dispatchEvent(new CustomEvent("w-unsaved:add"))')
    # the panel posts the form and reloads its (double-buffered) iframe
    tab.wait_for_function(SHOWS_TITLE, arg="Edited with the preview open", polling=100)
    assert any("/preview/" in url for url in previews)
    time.sleep(1.5)  # time enough for any beacon the preview might send
    assert get_object_stats(page).total_views == 1

    flush.process_pageviews()
    tab.goto(live_server.url + reverse("djinsight_wagtail:page_views") + "?period=7")
    row = tab.locator("#listing-results tbody tr", has_text="Post 0")
    assert row.locator("td").nth(2).inner_text().strip() == "1"
    editor.close()
