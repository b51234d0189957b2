"""Flushing Redis into the database: exact counts, summaries, logs, live figures steady."""

import logging

import pytest
from django.db import connection
from django.utils import timezone

from djinsight.models import (
    FlushLedger,
    PageViewDailyTotal,
    PageViewLog,
    PageViewSummary,
    PageViewWeeklySummary,
)
from djinsight.pipeline import flush
from djinsight.stats.figures import get_object_stats, get_stats
from djinsight.store import buffer
from djinsight.store.keys import Keys, ObjectName, keys_for, shard_of
from tests.conftest import beacon, visitor
from tests.testapp.models import Article, BlogPage, Product

pytestmark = pytest.mark.django_db


def articles(n):
    return [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(n)]


def buffered(redis_client) -> int:
    return sum(redis_client.xlen(Keys(s).stream) for s in range(4))


def test_flush_moves_counts_summaries_and_logs(client, redis_client):
    a, b = articles(2)
    for k in range(5):
        beacon(client, a, **visitor(k))
        beacon(client, a, **visitor(k))
    beacon(client, b, **visitor(9))
    result = flush.process_pageviews()
    assert result.views == 11
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.total_views, a.unique_views) == (10, 5)
    assert (b.total_views, b.unique_views) == (1, 1)
    assert a.first_viewed_at <= a.last_viewed_at
    summary = PageViewSummary.objects.get(object_id=str(a.pk))
    assert summary.date == timezone.localdate()
    assert (summary.total_views, summary.unique_views) == (10, 5)
    day_total = PageViewDailyTotal.objects.get()
    assert (day_total.date, day_total.total_views, day_total.unique_views) == (
        timezone.localdate(),
        11,
        6,
    )
    week = PageViewWeeklySummary.objects.get(object_id=str(a.pk))
    assert (week.week, week.total_views, week.unique_views) == (
        PageViewWeeklySummary.week_of(timezone.localdate()),
        10,
        5,
    )
    assert PageViewLog.objects.count() == 11
    assert buffered(redis_client) == 0
    assert flush.process_pageviews().views == 0


def test_log_rows_keep_no_raw_ip_or_session(client):
    (a,) = articles(1)
    client.cookies["sessionid"] = "secretsessionkey12345"
    beacon(
        client,
        a,
        REMOTE_ADDR="198.51.100.23",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        HTTP_REFERER="https://news.example.com/x",
    )
    flush.process_pageviews()
    log = PageViewLog.objects.get()
    assert log.ip_address == "198.51.100.0"
    assert "secretsessionkey" not in log.visitor
    assert log.path == "/x/"
    assert log.browser == "Firefox"


def test_log_text_and_time_survive_the_flush_exactly(client):
    """COPY's text format escapes tab, newline, backslash and \\N; none may leak or shift."""
    import json

    from djinsight.tracking.references import sign

    (a,) = articles(1)
    path = "/a\tb\nc\\d\\N\re/?q=ü"
    ts = int(timezone.now().timestamp() * 1000) - 61_007
    body = {"ref": sign(a), "url": path, "referrer": "https://x.test/\\N\t", "ts": ts}
    response = client.post(
        "/djInsight/record/",
        data=json.dumps(body),
        content_type="text/plain",
        HTTP_USER_AGENT="Mozilla/5.0 (X11) agent\\with\tescapes",
    )
    assert response.status_code == 204
    flush.process_pageviews()
    log = PageViewLog.objects.get()
    assert (log.path, log.referrer, log.user_agent) == (
        path,
        "https://x.test/\\N\t",
        "Mozilla/5.0 (X11) agent\\with\tescapes",
    )
    assert log.viewed_at == buffer.ms_to_datetime(ts)
    assert log.viewed_at.microsecond == (ts % 1000) * 1000


def test_live_figures_identical_before_and_after_flush(client):
    items = articles(3)
    for i, item in enumerate(items):
        for k in range(i + 2):
            beacon(client, item, **visitor(k))
    before = get_stats(items)
    flush.process_pageviews()
    fresh = list(Article.objects.order_by("pk"))
    after = get_stats(fresh)
    for name in before:
        assert before[name].total_views == after[name].total_views > 0
        assert before[name].unique_views == after[name].unique_views
        assert before[name].views_today == after[name].views_today
    # now seeded: more views are counted live on top of the database figures
    beacon(client, items[0], **visitor(50))
    assert get_object_stats(Article.objects.get(pk=items[0].pk)).total_views == 3


def test_seeded_live_stats_cost_no_sql(client, django_assert_num_queries):
    items = articles(3)
    for item in items:
        beacon(client, item, **visitor(1))
    flush.process_pageviews()
    for item in items:
        beacon(client, item, **visitor(2))
    fresh = list(Article.objects.all())
    with django_assert_num_queries(0):
        stats = get_stats(fresh)
    assert all(s.total_views == 2 and s.views_today == 2 for s in stats.values())


def test_counters_reseeded_after_redis_loses_them(client, redis_client):
    (a,) = articles(1)
    for k in range(4):
        beacon(client, a, **visitor(k))
    flush.process_pageviews()
    name = ObjectName.of(a)
    keys = keys_for(name)
    redis_client.delete(keys.counter(name), keys.unique_counter(name), keys.stats(name))
    a.refresh_from_db()
    assert get_object_stats(a).total_views == 4  # database fallback
    beacon(client, a, **visitor(99))
    assert get_object_stats(a).total_views == 5  # database + pending
    flush.process_pageviews()
    assert int(redis_client.get(keys.counter(name))) == 5
    a.refresh_from_db()
    assert (a.total_views, get_object_stats(a).views_today) == (5, 5)


def test_uuid_and_wagtail_page_flushed(client):
    product = Product.objects.create(name="Desk")
    root = BlogPage.get_first_root_node() if BlogPage.objects.exists() else None
    from wagtail.models import Page

    parent = root or Page.get_first_root_node()
    page = parent.add_child(instance=BlogPage(title="Hello", slug="hello"))
    beacon(client, product, **visitor(1))
    beacon(client, page, **visitor(1))
    beacon(client, page, **visitor(2))
    flush.process_pageviews()
    product.refresh_from_db()
    page.refresh_from_db()
    assert product.total_views == 1
    assert (page.total_views, page.unique_views) == (2, 2)
    assert PageViewSummary.objects.get(object_id=str(product.pk)).total_views == 1


def test_retried_flush_after_commit_only_trims(client, redis_client):
    """A flush that committed but died before trimming leaves entries that the next run skips."""
    (a,) = articles(1)
    for k in range(3):
        beacon(client, a, **visitor(k))
    shard = Keys(flush.shard_ids()[0]).shard
    shard = [s for s in range(4) if redis_client.xlen(Keys(s).stream)][0]
    flush.ensure_ledger()
    entries = buffer.read_entries(shard, "0-0", 100)
    # simulate the crash window: commit the batch, skip the trim
    from django.db import transaction

    with transaction.atomic():
        applied = flush._apply_batch(shard, 100)
    assert applied.count == 3 and applied.watermark == entries[-1][0]
    assert redis_client.xlen(Keys(shard).stream) == 3
    assert flush.process_pageviews().views == 0
    assert redis_client.xlen(Keys(shard).stream) == 0
    a.refresh_from_db()
    assert a.total_views == 3
    assert FlushLedger.objects.get(shard=shard).applied_views == 3


def rows_of(obj) -> dict:
    """The database rows that hold views of ``obj``: summaries, weekly summaries, logs."""
    mine = {"object_id": str(obj.pk)}
    return {
        "daily": list(PageViewSummary.objects.filter(**mine).values_list("total_views", flat=True)),
        "weekly": list(
            PageViewWeeklySummary.objects.filter(**mine).values_list("total_views", flat=True)
        ),
        "logs": PageViewLog.objects.filter(**mine).count(),
    }


def test_views_buffered_before_a_delete_are_dropped_at_the_flush(
    client, redis_client, django_capture_on_commit_callbacks
):
    a, b = articles(2)
    beacon(client, a, **visitor(1))
    beacon(client, a, **visitor(2))
    beacon(client, b, **visitor(1))
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.filter(pk=a.pk).delete()  # a queryset delete signals each object too
    assert flush.process_pageviews().views == 3  # consumed, past the watermark
    assert rows_of(a) == {"daily": [], "weekly": [], "logs": 0}
    assert PageViewDailyTotal.objects.get().total_views == 1  # b's view only
    b.refresh_from_db()
    assert b.total_views == 1 and rows_of(b) == {"daily": [1], "weekly": [1], "logs": 1}
    name = ObjectName("testapp.article", str(b.pk - 1))  # a's pk is None after its delete
    keys = keys_for(name)
    assert not any(redis_client.exists(k) for k in (keys.counter(name), keys.stats(name)))
    assert redis_client.zscore(keys.objects, str(name)) is None
    assert buffered(redis_client) == 0
    assert all(redis_client.hlen(Keys(s).pending) == 0 for s in range(4))


@pytest.mark.parametrize("model", [Article, Product], ids=["integer pk", "uuid pk"])
def test_a_delete_no_signal_reports_is_caught_by_the_flush(client, redis_client, caplog, model):
    """A raw SQL delete: the beacon still answers 204, the flush drops the views and keys."""
    a, b = (
        [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(2)]
        if model is Article
        else [Product.objects.create(name=f"P{i}") for i in range(2)]
    )
    beacon(client, a, **visitor(1))
    flush.process_pageviews()  # a's live counters are seeded: keys the flush must remove
    before = rows_of(a)
    name = ObjectName.of(a)
    keys = keys_for(name)
    assert redis_client.exists(keys.counter(name), keys.unique_counter(name), keys.stats(name)) == 3
    beacon(client, a, **visitor(2))
    table, pk_field = model._meta.db_table, model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(table)} WHERE {pk_field.column} = %s",
            [pk_field.get_db_prep_value(a.pk, connection)],
        )
    assert beacon(client, a, **visitor(3)).status_code == 204  # no signal, no tombstone
    beacon(client, b, **visitor(1))
    with caplog.at_level(logging.INFO, "djinsight"):
        assert flush.process_pageviews().views == 3
    assert rows_of(a) == before
    assert [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()] == [
        f"djinsight: shard {shard_of(name)}: dropped 2 views of 1 deleted objects"
    ]
    assert redis_client.exists(keys.counter(name), keys.unique_counter(name), keys.stats(name)) == 0
    assert redis_client.zscore(keys.objects, str(name)) is None
    assert buffered(redis_client) == 0
    assert all(redis_client.hlen(Keys(s).pending) == 0 for s in range(4))
    b.refresh_from_db()
    assert b.total_views == 1


def test_an_object_deleted_between_its_flush_and_its_trim_is_not_seeded(
    client, redis_client, django_capture_on_commit_callbacks
):
    """The flush read the object's totals, then it was deleted: the trim seeds nothing."""
    from django.db import transaction

    (a,) = articles(1)
    name = ObjectName.of(a)
    beacon(client, a, **visitor(1))
    shard = shard_of(name)
    flush.ensure_ledger()
    with transaction.atomic():
        applied = flush._apply_batch(shard, 100)
    assert [seed.name for seed in applied.seeds] == [str(name)]
    with django_capture_on_commit_callbacks(execute=True):
        a.delete()
    buffer.trim(
        shard, applied.watermark, applied.seeds, applied.after, applied.decrements, applied.window
    )
    keys = keys_for(name)
    assert redis_client.exists(keys.counter(name), keys.unique_counter(name), keys.stats(name)) == 0
    assert redis_client.hlen(keys.pending) == 0


def test_a_batch_of_seeded_objects_that_all_exist_reads_no_object_row(client):
    """Finding deleted objects costs no query in steady state: the update's row count tells."""
    from django.test.utils import CaptureQueriesContext

    items = articles(3)
    for a in items:
        beacon(client, a, **visitor(1))
    flush.process_pageviews()  # seeds them
    for a in items:
        beacon(client, a, **visitor(2))
    with CaptureQueriesContext(connection) as queries:
        assert flush.process_pageviews().views == 3
    table = Article._meta.db_table
    on_table = [q["sql"].split()[0].upper() for q in queries if table in q["sql"]]
    assert on_table and set(on_table) == {"UPDATE"}  # one per shard's batch


def test_summaries_are_per_local_day(client):
    (a,) = articles(1)
    from djinsight.tracking.identity import anonymise_ip  # noqa: F401

    now_ms = int(timezone.now().timestamp() * 1000)
    yesterday = timezone.localdate() - timezone.timedelta(days=1)
    view = buffer.View(ObjectName.of(a), "v1", now_ms - 86_400_000, yesterday)
    buffer.record_view(view)
    beacon(client, a, **visitor(1))
    flush.process_pageviews()
    days = dict(PageViewSummary.objects.values_list("date", "total_views"))
    assert days == {yesterday: 1, timezone.localdate(): 1}
    assert connection.vendor in {"sqlite", "postgresql", "mysql"}


def test_flush_writes_weekly_summaries_equal_to_the_daily_summaries_of_each_week():
    a, b = articles(2)
    today = timezone.localdate()
    now_ms = int(timezone.now().timestamp() * 1000)
    sent: dict[tuple[str, object], list[int]] = {}
    for n in range(16):  # three calendar weeks at least; some days twice, by the same visitor
        day = today - timezone.timedelta(days=n)
        for obj, visitors in ((a, ["v1", "v2", "v1"][: 1 + n % 3]), (b, ["v3"] * (n % 2))):
            for v in visitors:
                view = buffer.View(ObjectName.of(obj), f"{v}-{n}", now_ms - n * 86_400_000, day)
                unique = buffer.record_view(view)
                week = sent.setdefault((str(obj.pk), PageViewWeeklySummary.week_of(day)), [0, 0])
                week[0] += 1
                week[1] += unique
    flush.process_pageviews(batch_size=5)  # weeks are added to across batches
    weekly = {
        (w.object_id, w.week): [w.total_views, w.unique_views]
        for w in PageViewWeeklySummary.objects.all()
    }
    assert weekly == sent
    from_daily: dict[tuple[str, object], list[int]] = {}
    for s in PageViewSummary.objects.all():
        week = from_daily.setdefault((s.object_id, PageViewWeeklySummary.week_of(s.date)), [0, 0])
        week[0] += s.total_views
        week[1] += s.unique_views
    assert weekly == from_daily
    assert all(w.weekday() == 0 for _, w in weekly)
    assert len({w for _, w in weekly}) >= 3


def test_live_total_exact_after_every_small_batch_of_unseeded_views(client, redis_client):
    items = articles(2)
    for k in range(10):
        beacon(client, items[k % 2], **visitor(k % 3))
    flush.ensure_ledger()
    stats = get_stats(items).values()
    expected = {ObjectName.of(a): s.total_views for a, s in zip(items, stats, strict=True)}
    while True:
        applied = [flush.flush_batch(s, 3) for s in range(4)]
        fresh = list(Article.objects.order_by("pk"))
        live = get_stats(fresh)
        assert {name: s.total_views for name, s in live.items()} == expected
        if not any(applied):
            break
    for shard in range(4):
        assert redis_client.hlen(Keys(shard).pending) == 0


def test_views_of_a_model_this_process_does_not_know_stay_buffered(client, redis_client):
    """A rolling deploy: the web servers know a model the worker doesn't yet."""

    (a,) = articles(1)
    beacon(client, a, **visitor(1))
    ghost = ObjectName("newapp.newmodel", "1")
    now_ms = int(timezone.now().timestamp() * 1000)
    buffer.record_view(buffer.View(ghost, "v1", now_ms, timezone.localdate()))
    result = flush.process_pageviews()
    held_shard = shard_of(ghost)
    assert result.held == {held_shard: ["newapp.newmodel"]}
    assert redis_client.xlen(Keys(held_shard).stream) >= 1
    assert flush.process_pageviews().held == {held_shard: ["newapp.newmodel"]}  # still there
    from io import StringIO

    from django.core.management import call_command

    err = StringIO()
    call_command("process_pageviews", stdout=StringIO(), stderr=err)
    assert "newapp.newmodel kept in the buffer" in err.getvalue()
    call_command("process_pageviews", "--discard-unknown", stdout=StringIO(), stderr=err)
    assert redis_client.xlen(Keys(held_shard).stream) == 0
    a.refresh_from_db()
    assert a.total_views == 1


def test_log_table_indexes_suit_an_append_only_copy():
    """BRIN on viewed_at (PostgreSQL) and no per-row foreign-key check: see indexes.py."""
    table = PageViewLog._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert not [c for c in constraints.values() if c["foreign_key"]]
    by_name = {name: c for name, c in constraints.items() if c["index"]}
    assert by_name["djinsight_log_time"]["columns"] == ["viewed_at"]
    assert by_name["djinsight_log_object"]["columns"] == [
        "content_type_id",
        "object_id",
        "viewed_at",
    ]
    if connection.vendor == "postgresql":
        assert by_name["djinsight_log_time"]["type"] == "brin"


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_dimension_totals_match_a_rebuild_from_the_logs(client, settings, zone):
    """The flush's per-day referrer/path/browser/OS/device/hour counts equal the logs'."""
    from djinsight.models import PageViewDimensionTotal
    from djinsight.pipeline.rollups import rebuild_dimension_totals

    settings.TIME_ZONE = zone
    a, b = articles(2)
    agents = [
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "Mobile/15E148 Safari/604.1",
    ]
    for k in range(6):
        beacon(
            client,
            a if k % 2 else b,
            REMOTE_ADDR=f"10.0.0.{k + 1}",
            HTTP_USER_AGENT=agents[k % 2],
            HTTP_REFERER="https://news.example.com/x",
        )
    flush.process_pageviews()

    def snapshot():
        return sorted(
            PageViewDimensionTotal.objects.values_list("dimension", "date", "value", "views")
        )

    written = snapshot()
    assert PageViewLog.objects.count() == 6
    by_dimension = {}
    for dimension, _day, value, views in written:
        by_dimension.setdefault(dimension, {})[value] = views
    assert sum(by_dimension["hour"].values()) == 6
    assert by_dimension["path"] == {"/x/": 6}
    assert sorted(by_dimension["browser"].values()) == [3, 3]
    rebuild_dimension_totals(PageViewLog, PageViewDimensionTotal)
    assert snapshot() == written
