"""I1: exactly once through SIGKILLs, racing flushers and a database outage."""

import random
import select
import signal
import time

import pytest
from django.db.models import Sum
from django.test import Client

from djinsight.models import (
    FlushLedger,
    PageViewDailyTotal,
    PageViewLog,
    PageViewSummary,
    PageViewWeeklySummary,
)
from djinsight.pipeline import flush, writes
from djinsight.stats.figures import get_stats
from djinsight.store.keys import Keys
from tests.conftest import FIGURES, beacon, spawn, visitor
from tests.testapp.models import Article

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FLUSHER = """
import os, sys, django
django.setup()
from djinsight.pipeline.flush import process_pageviews
print("ready", flush=True)
while True:
    try:
        process_pageviews(batch_size=int(os.environ["BATCH"]))
    except Exception as exc:  # e.g. SQLite busy while the other flusher writes
        print("flush error:", exc, file=sys.stderr, flush=True)
"""


def wait_ready(proc, timeout=60.0):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "flusher did not start"
    assert proc.stdout.readline().strip() == "ready"


def send_for(client, items, seconds, counter):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        item = random.choice(items)
        if beacon(client, item, **visitor(random.randrange(40))).status_code == 204:
            counter[item.pk] += 1


def assert_counted_exactly(items, sent, redis_client):
    assert flush.process_pageviews(batch_size=50).skipped_shards == []
    assert sum(redis_client.xlen(Keys(s).stream) for s in flush.shard_ids()) == 0
    fresh = {a.pk: a for a in Article.objects.filter(pk__in=[i.pk for i in items])}
    counted = {pk: fresh[pk].total_views for pk in sent}
    assert counted == sent
    total = sum(sent.values())
    assert PageViewSummary.objects.aggregate(n=Sum("total_views"))["n"] == total
    assert PageViewDailyTotal.objects.aggregate(n=Sum("total_views"))["n"] == total
    assert PageViewWeeklySummary.objects.aggregate(n=Sum("total_views"))["n"] == total
    assert PageViewLog.objects.count() == total
    assert FlushLedger.objects.aggregate(n=Sum("applied_views"))["n"] == total
    unique_db = {pk: fresh[pk].unique_views for pk in sent}
    live = get_stats(fresh.values())
    assert {int(name.pk): s.unique_views for name, s in live.items()} == unique_db
    assert {int(name.pk): s.total_views for name, s in live.items()} == counted
    return total


def test_flush_killed_at_random_moments_counts_every_view_once(redis_client):
    random.seed(7)
    items = [Article.objects.create(title=f"K{i}", slug=f"k{i}") for i in range(4)]
    sent = dict.fromkeys((i.pk for i in items), 0)
    client = Client()
    kills = 0
    for _ in range(22):
        proc = spawn(FLUSHER, BATCH="7")
        try:
            wait_ready(proc)
            send_for(client, items, random.uniform(0.05, 0.5), sent)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kills += proc.returncode == -signal.SIGKILL
    total = assert_counted_exactly(items, sent, redis_client)
    FIGURES.append(
        f"crash test: views sent {total}, SIGKILLs {kills}, counted {total}, difference 0"
    )
    assert kills >= 20


def test_two_flushers_racing_count_every_view_once(redis_client):
    items = [Article.objects.create(title=f"R{i}", slug=f"r{i}") for i in range(6)]
    sent = dict.fromkeys((i.pk for i in items), 0)
    client = Client()
    send_for(client, items, 1.0, sent)  # a backlog for both to fight over
    racers = [spawn(FLUSHER, BATCH="5"), spawn(FLUSHER, BATCH="5")]
    try:
        for proc in racers:
            wait_ready(proc)
        send_for(client, items, 3.0, sent)
        time.sleep(1.0)
    finally:
        for proc in racers:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    total = assert_counted_exactly(items, sent, redis_client)
    FIGURES.append(f"race test: views sent {total}, counted {total}, difference 0")


def test_database_down_during_flush_loses_nothing(redis_client):
    items = [Article.objects.create(title=f"D{i}", slug=f"d{i}") for i in range(3)]
    sent = dict.fromkeys((i.pk for i in items), 0)
    client = Client()
    send_for(client, items, 0.5, sent)
    backlog = sum(redis_client.xlen(Keys(s).stream) for s in range(4))
    live_before = get_stats(items)
    proc = spawn(
        "import django; django.setup()\nfrom djinsight.pipeline.flush import process_pageviews\n"
        "process_pageviews()",
        DJINSIGHT_TEST_DB_BROKEN="1",
    )
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "OperationalError" in stderr
    assert sum(redis_client.xlen(Keys(s).stream) for s in range(4)) == backlog
    assert get_stats(items) == live_before
    assert assert_counted_exactly(items, sent, redis_client) == backlog


def test_redis_entries_never_trimmed_before_commit(redis_client, monkeypatch):
    """A flush that fails inside the transaction leaves the buffer untouched."""
    (item,) = [Article.objects.create(title="T", slug="t")]
    client = Client()
    for k in range(5):
        beacon(client, item, **visitor(k))

    def broken(rows):
        raise RuntimeError("database write failed")

    monkeypatch.setattr(writes, "upsert_summaries", broken)
    with pytest.raises(RuntimeError):
        flush.process_pageviews()
    monkeypatch.undo()
    assert sum(redis_client.xlen(Keys(s).stream) for s in range(4)) == 5
    item.refresh_from_db()
    assert item.total_views == 0
    assert FlushLedger.objects.aggregate(n=Sum("applied_views"))["n"] == 0
    assert_counted_exactly([item], {item.pk: 5}, redis_client)
