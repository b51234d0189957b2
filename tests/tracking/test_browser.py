"""Tracker and live counter in a real headless Chromium, through the real endpoint into real Redis.

Visitors without a session cookie are identified by a daily salted hash of
IP + user agent + host. Every browser context here connects from 127.0.0.1, so
two contexts with the same user agent *are* the same visitor; a "second visitor"
is therefore a second context with a different user agent.
"""

import os
import time
from pathlib import Path

import pytest
from django.test import override_settings

from djinsight.stats.figures import get_object_stats
from tests.testapp.models import Article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UA_A = "Mozilla/5.0 (X11; Linux x86_64) djinsight-test visitor-A"
UA_B = "Mozilla/5.0 (X11; Linux x86_64) djinsight-test visitor-B"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("DJINSIGHT_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the
    # tests make between browser steps are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def contexts(browser):
    opened = []

    def new(user_agent=UA_A, **kwargs):
        context = browser.new_context(user_agent=user_agent, **kwargs)
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()


@pytest.fixture
def article():
    return Article.objects.create(title="Browser <b>test</b>", slug="browser")


def figures(article):
    stats = get_object_stats(article)
    return stats.total_views, stats.unique_views


def wait_for(article, expected, timeout=10.0):
    """Wait until the live figures reach ``expected``, then check nothing more arrives."""
    deadline = time.monotonic() + timeout
    while figures(article) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert figures(article) == expected
    time.sleep(1.0)  # a second beacon would have landed by now
    assert figures(article) == expected


def url(live_server, article, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{live_server.url}/live/{article.slug}/" + (f"?{query}" if query else "")


def test_loading_a_page_records_exactly_one_view(live_server, contexts, article):
    page = contexts().new_page()
    page.goto(url(live_server, article, refresh=60))
    wait_for(article, (1, 1))


def test_page_loaded_without_async_load_records_one_view(live_server, contexts, article):
    page = contexts().new_page()
    page.goto(url(live_server, article, sync=1, refresh=60))
    wait_for(article, (1, 1))


def test_reload_adds_to_total_but_not_to_unique(live_server, contexts, article):
    page = contexts().new_page()
    page.goto(url(live_server, article, refresh=60))
    wait_for(article, (1, 1))
    page.reload()
    wait_for(article, (2, 1))
    assert not page.context.cookies()  # the tracker set no cookie, nor did the endpoint


def test_second_browser_context_adds_a_unique_visitor(live_server, contexts, article):
    contexts(UA_A).new_page().goto(url(live_server, article, refresh=60))
    wait_for(article, (1, 1))
    contexts(UA_B).new_page().goto(url(live_server, article, refresh=60))
    wait_for(article, (2, 2))


def test_live_counter_in_another_tab_updates_without_reload(live_server, contexts, article):
    watcher = contexts(UA_A).new_page()
    watcher.goto(url(live_server, article, track=0, refresh=1))
    total = watcher.locator(
        ".djinsight-live-counter [data-djinsight-stat=total_views] .djinsight-stat-value"
    )
    unique = watcher.locator(
        ".djinsight-live-counter [data-djinsight-stat=unique_views] .djinsight-stat-value"
    )
    assert total.text_content() == "0"
    watcher.evaluate("window.notReloaded = true")

    reader = contexts(UA_B).new_page()
    reader.goto(url(live_server, article, refresh=60))
    wait_for(article, (1, 1))
    started = time.monotonic()
    watcher.wait_for_function(
        "document.querySelector('.djinsight-live-counter [data-djinsight-stat=total_views]"
        " .djinsight-stat-value').textContent === '1'",
        timeout=5000,
    )
    assert time.monotonic() - started < 3  # within refresh_interval (1 s) plus a request
    assert unique.text_content() == "1"
    assert watcher.evaluate("window.notReloaded") is True
    reader.reload()
    watcher.wait_for_function(
        "document.querySelector('.djinsight-live-counter [data-djinsight-stat=total_views]"
        " .djinsight-stat-value').textContent === '2'",
        timeout=5000,
    )
    assert total.text_content() == "2" and unique.text_content() == "1"


def test_live_counter_pauses_while_the_tab_is_hidden(live_server, contexts, article):
    page = contexts().new_page()
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/djInsight/live/" in r.url else None)
    page.goto(url(live_server, article, track=0, refresh=1))
    page.wait_for_timeout(2500)
    assert len(polls) >= 1
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    hidden_from = len(polls)
    page.wait_for_timeout(3000)
    assert len(polls) == hidden_from
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    page.wait_for_timeout(1500)
    assert len(polls) > hidden_from


def test_debug_logs_to_the_console(live_server, contexts, article):
    page = contexts().new_page()
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(url(live_server, article, debug=1, refresh=60))
    wait_for(article, (1, 1))
    assert any(
        m.startswith(f"[djinsight] view of testapp.article:{article.pk} sent via") for m in messages
    ), messages


def test_no_console_output_without_debug(live_server, contexts, article):
    page = contexts().new_page()
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(url(live_server, article, refresh=60))
    wait_for(article, (1, 1))
    assert not [m for m in messages if "djinsight" in m]


DNT_SCRIPT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"
GPC_SCRIPT = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"


def test_do_not_track_is_honoured_when_configured(live_server, contexts, article):
    with override_settings(DJINSIGHT_RESPECT_DNT=True):
        context = contexts()
        context.add_init_script(DNT_SCRIPT)
        page = context.new_page()
        messages = []
        page.on("console", lambda m: messages.append(m.text))
        page.goto(url(live_server, article, debug=1, refresh=60))
        page.wait_for_timeout(1500)
    assert figures(article) == (0, 0)
    assert "[djinsight] Do Not Track: view not sent" in messages


def test_global_privacy_control_is_honoured_by_default(live_server, contexts, article):
    context = contexts()
    context.add_init_script(GPC_SCRIPT)
    page = context.new_page()
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(url(live_server, article, debug=1, refresh=60))
    page.wait_for_timeout(1500)
    assert figures(article) == (0, 0)
    assert "[djinsight] GPC: view not sent" in messages


def test_global_privacy_control_is_ignored_when_turned_off(live_server, contexts, article):
    with override_settings(DJINSIGHT_RESPECT_GPC=False):
        context = contexts()
        context.add_init_script(GPC_SCRIPT)
        context.new_page().goto(url(live_server, article, refresh=60))
        wait_for(article, (1, 1))


def test_dnt_header_is_honoured_by_the_endpoint(live_server, contexts, article):
    # navigator.doNotTrack stays unset; the server sees the DNT header on the beacon
    with override_settings(DJINSIGHT_RESPECT_DNT=True):
        page = contexts(extra_http_headers={"DNT": "1"}).new_page()
        messages = []
        page.on("console", lambda m: messages.append(m.text))
        page.goto(url(live_server, article, debug=1, refresh=60))
        page.wait_for_timeout(1500)
    assert any("sent via" in m for m in messages), messages
    assert figures(article) == (0, 0)


def test_do_not_track_is_ignored_unless_configured(live_server, contexts, article):
    context = contexts()
    context.add_init_script(DNT_SCRIPT)
    context.new_page().goto(url(live_server, article, refresh=60))
    wait_for(article, (1, 1))


def test_several_trackers_for_one_object_record_one_view(live_server, contexts, article):
    """The specification shows an automatic and an explicit tracker side by side."""
    page = contexts().new_page()
    page.goto(f"{live_server.url}/twice/{article.slug}/")
    wait_for(article, (1, 1))


def test_live_counter_soon_includes_the_pages_own_view(live_server, contexts, article):
    page = contexts().new_page()
    page.goto(url(live_server, article, refresh=60))
    total = page.locator(
        ".djinsight-live-counter [data-djinsight-stat=total_views] .djinsight-stat-value"
    )
    deadline = time.monotonic() + 8
    while total.text_content() != "1" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert total.text_content() == "1"
