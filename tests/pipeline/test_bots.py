"""Bot views: kept apart per object, day and kind; never in a human figure."""

import pytest
from django.test import override_settings
from django.utils import timezone

from djinsight.models import (
    PageViewBotSummary,
    PageViewDailyTotal,
    PageViewLog,
    PageViewSummary,
    PageViewWeeklySummary,
)
from djinsight.pipeline import flush
from djinsight.signals import view_recorded
from djinsight.stats.figures import get_object_stats
from djinsight.store.keys import ENTRY_KIND, Keys
from djinsight.tracking.references import sign
from tests.conftest import BROWSER, beacon
from tests.testapp.models import Article

pytestmark = pytest.mark.django_db

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
    "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"
)
GPTBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)"
)
CLAUDEBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
    "+claudebot@anthropic.com)"
)
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
)
# the observation: one view each, and every one counted +1
BOTS = {
    GOOGLEBOT: "search",
    BINGBOT: "search",
    GPTBOT: "ai",
    CLAUDEBOT: "ai",
    "curl/8.5.0": "other",
    "python-requests/2.32.3": "other",
    HEADLESS: "other",
    "": "other",
}


def article() -> Article:
    return Article.objects.create(title="A", slug="a")


def bot_views(obj) -> dict[str, int]:
    rows = PageViewBotSummary.objects.filter(object_id=str(obj.pk), date=timezone.localdate())
    return dict(rows.values_list("kind", "views"))


def send_bots(client, obj) -> None:
    for n, agent in enumerate(BOTS):
        assert (
            beacon(client, obj, REMOTE_ADDR=f"192.0.2.{n + 1}", HTTP_USER_AGENT=agent).status_code
            == 204
        )


def test_bot_views_never_touch_human_figures(client, redis_client):
    a = article()
    beacon(client, a, REMOTE_ADDR="198.51.100.1", HTTP_USER_AGENT=BROWSER)
    send_bots(client, a)
    live = get_object_stats(a)  # before the flush: Redis's figures
    assert (live.total_views, live.unique_views, live.views_today) == (1, 1, 1)
    flush.process_pageviews()
    a.refresh_from_db()
    assert (a.total_views, a.unique_views) == (1, 1)
    summary = PageViewSummary.objects.get(object_id=str(a.pk))
    assert (summary.total_views, summary.unique_views) == (1, 1)
    assert PageViewDailyTotal.objects.get().total_views == 1
    assert PageViewWeeklySummary.objects.get().total_views == 1
    assert PageViewLog.objects.count() == 1  # raw logs are human views only
    live = get_object_stats(a)  # after: the seeded counters
    assert (live.total_views, live.unique_views, live.views_today) == (1, 1, 1)
    assert bot_views(a) == {"search": 2, "ai": 2, "other": 4}


def test_bot_views_leave_no_counter_mark_or_pending_figure_in_redis(client, redis_client):
    a = article()
    send_bots(client, a)
    keys = Keys(0)
    assert [k for k in redis_client.scan_iter(f"{keys.prefix}*") if b"buffer:" not in k] == []
    entries = [e for s in range(4) for _id, e in redis_client.xrange(Keys(s).stream)]
    kinds = sorted(e[ENTRY_KIND.encode()].decode() for e in entries)
    assert kinds == sorted(BOTS.values())


def test_bot_summaries_add_up_across_flushes_and_days_by_kind(client):
    a, b = article(), Article.objects.create(title="B", slug="b")
    for _ in range(3):
        beacon(client, a, HTTP_USER_AGENT=GPTBOT)
    beacon(client, b, HTTP_USER_AGENT=GOOGLEBOT)
    flush.process_pageviews()
    beacon(client, a, HTTP_USER_AGENT=CLAUDEBOT)
    beacon(client, a, HTTP_USER_AGENT="curl/8.5.0")
    flush.process_pageviews()
    assert bot_views(a) == {"ai": 4, "other": 1}
    assert bot_views(b) == {"search": 1}
    assert flush.process_pageviews().views == 0
    assert bot_views(a) == {"ai": 4, "other": 1}  # nothing applied twice


def test_count_bots_off_drops_bot_views_at_the_beacon(client, redis_client):
    a = article()
    received = []

    def receiver(sender, kind, **kwargs):
        received.append(kind)

    view_recorded.connect(receiver)
    try:
        with override_settings(DJINSIGHT_COUNT_BOTS=False):
            send_bots(client, a)
            beacon(client, a, HTTP_USER_AGENT=BROWSER)
    finally:
        view_recorded.disconnect(receiver)
    assert received == ["human"]
    assert sum(redis_client.xlen(Keys(s).stream) for s in range(4)) == 1
    flush.process_pageviews()
    assert PageViewBotSummary.objects.count() == 0
    a.refresh_from_db()
    assert a.total_views == 1


def test_signal_names_the_kind(client):
    a = article()
    received = []

    def receiver(sender, kind, unique, **kwargs):
        received.append((kind, unique))

    view_recorded.connect(receiver)
    try:
        beacon(client, a, HTTP_USER_AGENT=GPTBOT)
        beacon(client, a, HTTP_USER_AGENT=BROWSER)
    finally:
        view_recorded.disconnect(receiver)
    assert received == [("ai", False), ("human", True)]


def test_bot_views_of_a_deleted_object_are_refused(client, django_capture_on_commit_callbacks):
    a = article()
    ref = sign(a)
    with django_capture_on_commit_callbacks(execute=True):
        a.delete()  # sets its tombstone
    assert beacon(client, ref=ref, HTTP_USER_AGENT=GPTBOT).status_code == 410


def test_a_failed_flush_writes_no_bot_summary_and_the_retry_counts_once(
    client, redis_client, monkeypatch
):
    from djinsight.pipeline import writes

    a = article()
    send_bots(client, a)
    beacon(client, a, HTTP_USER_AGENT=BROWSER)

    def broken(rows):  # the last write of the batch, after the bot summaries
        raise RuntimeError("database write failed")

    monkeypatch.setattr(writes, "insert_logs", broken)
    with pytest.raises(RuntimeError):
        flush.process_pageviews()
    monkeypatch.undo()
    assert PageViewBotSummary.objects.count() == 0
    assert sum(redis_client.xlen(Keys(s).stream) for s in range(4)) == len(BOTS) + 1
    assert flush.process_pageviews().views == len(BOTS) + 1
    assert flush.process_pageviews().views == 0
    assert bot_views(a) == {"search": 2, "ai": 2, "other": 4}
    a.refresh_from_db()
    assert a.total_views == 1
