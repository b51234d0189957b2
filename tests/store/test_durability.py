"""I1's one exception, bounded: what a Redis crash loses of the views answered 204.

A private redis-server with persistence is SIGKILLed under load (and, for "power",
its AOF cut back to the last fsync), restarted on the same files, and flushed; the
raw logs name every view kept (tests/redis_crash.py). docs/architecture.md,
"Durability", has the full table (bench/durability.py).
"""

import time

import pytest
import redis
from django.db.models import Sum
from django.test import override_settings

from djinsight.models import FlushLedger, PageViewLog, PageViewSummary
from djinsight.pipeline import flush
from djinsight.stats.figures import get_stats
from djinsight.store.client import reset_clients
from djinsight.store.keys import Keys
from djinsight.tracking.references import sign
from tests.conftest import FIGURES, child_env
from tests.redis_crash import PERSISTENCE, Clients, CrashableRedis, answer_beacons
from tests.testapp.models import Article

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CLIENTS = 2
RATE = 600  # views/s per client: enough to lose some, little to flush on SQLite


def articles(prefix: str, n: int) -> list[Article]:
    return [Article.objects.create(title=f"{prefix}{i}", slug=f"{prefix}{i}") for i in range(n)]


def kept_paths() -> list[str]:
    return list(PageViewLog.objects.values_list("path", flat=True))


def assert_figures_agree(objects: list[Article]) -> int:
    """Mixin columns, daily summaries and raw logs count the same views; that count."""
    column = Article.objects.filter(pk__in=[a.pk for a in objects]).aggregate(n=Sum("total_views"))
    summaries = PageViewSummary.objects.aggregate(n=Sum("total_views"))["n"] or 0
    logs = kept_paths()
    assert len(logs) == len(set(logs)), "a view was applied twice"
    assert (column["n"] or 0) == summaries == len(logs)
    return len(logs)


def crash_under_load(server: CrashableRedis, power: bool, seconds: float = 3) -> dict:
    """Views under load, flushed twice (the second just before the crash), a crash,
    a restart, more views of other objects, a flush: what was answered and kept."""
    before, after = articles("before", 3), articles("after", 2)
    with Clients([sign(a) for a in before], "a", server.url, CLIENTS, child_env(), RATE) as load:
        started = load.go()
        # A few batches per shard each time: with views arriving, "until empty" never ends.
        time.sleep(seconds / 2)
        flush.process_pageviews(max_batches=2)
        time.sleep(seconds / 2)
        flush.process_pageviews(max_batches=2)  # may apply entries newer than the last fsync
        server.kill()
        killed = time.time()
        answered = load.stop()
    dropped = server.lose_power() if power else 0
    server.start()
    answered_later = answer_beacons([sign(a) for a in after], 300, "b")
    assert flush.process_pageviews().views > 0
    client = redis.Redis.from_url(server.url)
    assert sum(client.xlen(Keys(s).stream) for s in flush.shard_ids()) == 0
    kept = set(kept_paths())
    return {
        "answered": answered,
        "later": answered_later,
        "lost": {path: killed - answered.at[path] for path in answered.at.keys() - kept},
        "unanswered_kept": kept - answered.at.keys() - answered_later.at.keys(),
        "before": before,
        "after": after,
        "rate": len(answered.at) / (killed - started),
        "dropped": dropped,
    }


def assert_later_views_exact(outcome: dict) -> None:
    """Views answered after the restart are each counted once, whatever the crash lost."""
    later = outcome["later"]
    assert later.at and later.at.keys() <= set(kept_paths())
    refs = {sign(a): a.pk for a in outcome["after"]}
    columns = dict(Article.objects.filter(pk__in=refs.values()).values_list("pk", "total_views"))
    assert columns == {pk: later.by_ref.get(ref, 0) for ref, pk in refs.items()}
    assert_figures_agree(outcome["before"] + outcome["after"])


def test_aof_always_keeps_every_view_answered_204_through_power_loss(tmp_path):
    """appendfsync always: Redis writes and fsyncs the AOF, the record script's effects
    included, before it sends any reply (and never serves one client's read and write
    in one event-loop pass), so even a power loss keeps every view answered 204."""
    server = CrashableRedis(tmp_path, *PERSISTENCE["always"])
    server.start()
    try:
        with override_settings(DJINSIGHT_REDIS_URL=server.url):
            reset_clients()
            outcome = crash_under_load(server, power=True)
            answered = outcome["answered"]
            assert len(answered.at) > 100
            assert outcome["lost"] == {}
            # executed, but the reply died with the server: at most one per client
            assert len(outcome["unanswered_kept"]) <= CLIENTS
            assert_later_views_exact(outcome)
    finally:
        server.stop()
        reset_clients()
    FIGURES.append(
        f"durability, appendfsync always, power loss: {len(answered.at)} views answered 204 "
        f"({outcome['rate']:.0f}/s), 0 lost"
    )


@pytest.mark.parametrize("power", [False, True], ids=["sigkill", "power-loss"])
def test_aof_everysec_loses_at_most_the_last_seconds(tmp_path, power):
    """appendfsync everysec: a power loss loses what Redis wrote after its last fsync,
    about the last second. A SIGKILL usually loses nothing (the kernel has what Redis
    wrote), except that while a background fsync runs Redis answers before it writes,
    for up to two seconds: then it loses those views."""
    server = CrashableRedis(tmp_path, *PERSISTENCE["everysec"])
    server.start()
    try:
        with override_settings(DJINSIGHT_REDIS_URL=server.url):
            reset_clients()
            outcome = crash_under_load(server, power, seconds=4)
            lost = outcome["lost"]
            if power:  # the simulation does cut the AOF, else the test above proves nothing
                assert outcome["dropped"] > 0 and lost
            assert max(lost.values(), default=0) < 3.0
            assert len(outcome["unanswered_kept"]) <= CLIENTS
            assert_later_views_exact(outcome)
    finally:
        server.stop()
        reset_clients()
    answered = len(outcome["answered"].at)
    FIGURES.append(
        f"durability, appendfsync everysec, {'power loss' if power else 'SIGKILL'}: "
        f"{answered} views answered 204, {len(lost)} lost ({100 * len(lost) / answered:.1f}%), "
        f"answered at most {max(lost.values(), default=0):.2f}s before the crash"
    )


def stream_id(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq)


@pytest.mark.parametrize(
    "restored", ["nothing", "a snapshot before the first flush", "a snapshot between flushes"]
)
def test_flush_after_redis_lost_data_counts_new_views_once(tmp_path, restored):
    """Redis restarts having lost views the flush already applied, so the ledger's
    watermark is beyond the restored stream: with nothing at all, or with an older
    snapshot whose entries (unflushed, or flushed and trimmed) come back. No entry is
    applied twice, and views answered after the restart (new stream ids, from the
    clock) are all applied."""
    server = CrashableRedis(tmp_path)  # no persistence but the explicit SAVE below
    server.start()
    try:
        with override_settings(DJINSIGHT_REDIS_URL=server.url):
            reset_clients()
            objects = articles("a", 3)
            refs = [sign(a) for a in objects]
            client = redis.Redis.from_url(server.url, decode_responses=True)
            first = answer_beacons(refs, 60, "first")
            if restored == "a snapshot before the first flush":
                client.save()
            flush.process_pageviews()  # applies "first", seeds the live counters
            if restored == "a snapshot between flushes":
                client.save()
            second = answer_beacons(refs, 40, "second")
            flush.process_pageviews()  # applies "second": past anything saved
            watermarks = dict(FlushLedger.objects.values_list("shard", "watermark"))
            server.kill()
            server.start()
            shards = list(watermarks)
            entries = sum(client.xlen(Keys(s).stream) for s in shards)
            assert entries == (60 if restored == "a snapshot before the first flush" else 0)
            third = answer_beacons(refs, 50, "third")
            for shard in shards:
                if client.exists(Keys(shard).stream):
                    last = client.xinfo_stream(Keys(shard).stream)["last-generated-id"]
                    assert stream_id(last) > stream_id(watermarks[shard])
            flush.process_pageviews()
            assert sorted(kept_paths()) == sorted([*first.at, *second.at, *third.at])
            assert assert_figures_agree(objects) == 150
            live = sum(s.total_views for s in get_stats(objects).values())
    finally:
        server.stop()
        reset_clients()
    FIGURES.append(
        f"durability, Redis restarted with {restored}: database 150 views (exact), "
        f"live figure {live}"
    )
