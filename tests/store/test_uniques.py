"""Unique visitors: exact marks up to DJINSIGHT_UNIQUE_EXACT_LIMIT per object and day, then a
HyperLogLog, so memory stays bounded whatever visitors clients invent."""

import time
from collections.abc import Iterable, Iterator
from itertools import islice

import pytest
from django.test import override_settings
from django.utils import timezone
from redis.crc import key_slot

from djinsight.pipeline import flush
from djinsight.stats.figures import get_object_stats
from djinsight.store import buffer, scripts
from djinsight.store.client import get_redis, reset_clients
from djinsight.store.keys import (
    DAY_VISITORS_TTL,
    ENTRY_UNIQUE,
    ObjectName,
    day_key,
    keys_for,
)
from tests.conftest import FIGURES, beacon, visitor
from tests.testapp.models import Article

NAME = ObjectName("testapp.article", "7")


def visitors(n: int, start: int = 0) -> list[str]:
    """Hashes shaped like tracking.identity's."""
    return [f"c{i:020x}" for i in range(start, start + n)]


def _bulk(value) -> bytes:
    data = str(value).encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def evalsha_commands(conn, sha: str, name: ObjectName, hashes: Iterable[str]) -> Iterator[bytes]:
    """record.lua's EVALSHA for one view per visitor, today, as RESP bytes.

    Packed from ``scripts.record_call``'s KEYS and ARGV: a view differs from another only in
    its visitor (mark key and hash), swapped into the same bytes, so a million views pack in
    seconds. The first is checked against redis-py packing record_call's own call.
    """
    day, now_ms = timezone.localdate(), int(time.time() * 1000)
    keys = keys_for(name)
    script_keys, args = scripts.record_call(buffer.View(name, "", now_ms, day))
    parts = [_bulk(p) for p in ("EVALSHA", sha, len(script_keys), *script_keys, *args)]
    mark, hashed_at = 3 + 2, 3 + len(script_keys) + 1  # KEYS[3], ARGV[2]
    head = b"*%d\r\n" % len(parts) + b"".join(parts[:mark])
    middle, tail = b"".join(parts[mark + 1 : hashed_at]), b"".join(parts[hashed_at + 1 :])
    for i, hashed in enumerate(hashes):
        command = head + _bulk(keys.session(hashed, name)) + middle + _bulk(hashed) + tail
        if i == 0:
            view_keys, view_args = scripts.record_call(buffer.View(name, hashed, now_ms, day))
            packed = conn.pack_command("EVALSHA", sha, len(view_keys), *view_keys, *view_args)
            assert command == b"".join(packed)
        yield command


def record(client, hashes: Iterable[str], name: ObjectName = NAME, batch: int = 5000) -> list[int]:
    """One view of ``name`` per visitor through record.lua, pipelined; its unique flags.

    The stream is dropped after each batch: the flags are the replies, and a million
    entries would hold ~300 MB of Redis memory.
    """
    sha = client.script_load(scripts.source("record"))
    conn = client.connection_pool.get_connection()
    drop_stream = b"".join(conn.pack_command("DEL", keys_for(name).stream))
    flags: list[int] = []
    try:
        commands = evalsha_commands(conn, sha, name, hashes)
        while chunk := list(islice(commands, batch)):
            conn.send_packed_command([*chunk, drop_stream])
            flags += [conn.read_response() for _ in chunk]
            conn.read_response()
    finally:
        conn.disconnect()  # frees the server's big query buffer, which memory tests would count
        client.connection_pool.release(conn)
    return flags


def marks(client, name: ObjectName) -> int:
    pattern = keys_for(name).session("*", name)
    return sum(1 for _ in client.scan_iter(match=pattern, count=10_000))


def test_below_the_limit_each_visitor_is_unique_once_with_a_mark(redis_client):
    flags = record(redis_client, visitors(3) * 4)
    assert flags == [1, 1, 1] + [0] * 9
    assert marks(redis_client, NAME) == 3
    assert buffer.read_live([NAME], [timezone.localdate()])[NAME].unique == 3


def test_past_the_limit_marks_stop_and_the_estimate_decides(redis_client):
    with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=5):
        first = record(redis_client, visitors(20))
        again = record(redis_client, visitors(20))
    assert sum(first) == 20  # a HyperLogLog of 20 is exact
    assert sum(again) == 0  # marked or already in the day's estimate
    assert marks(redis_client, NAME) == 5


def test_a_visitor_counted_below_the_limit_is_not_counted_again_past_it(redis_client):
    with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=2):
        assert record(redis_client, visitors(3)) == [1, 1, 1]  # two marks, then the estimate
        assert record(redis_client, visitors(1)) == [0]


def test_limit_zero_never_writes_a_mark(redis_client):
    with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=0):
        flags = record(redis_client, visitors(3) * 3)
    assert flags == [1, 1, 1] + [0] * 6
    assert marks(redis_client, NAME) == 0


def test_day_keys_expire_and_share_the_objects_cluster_slot(redis_client):
    day = day_key(timezone.localdate())
    keys = keys_for(NAME)
    with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=1):
        record(redis_client, visitors(2))
    for key in (keys.day_visitors(NAME, day), keys.day_claimed(NAME, day)):
        assert DAY_VISITORS_TTL - 5 < redis_client.ttl(key) <= DAY_VISITORS_TTL
    with override_settings(DJINSIGHT_REDIS_CLUSTER=True):
        script_keys, _args = scripts.record_call(
            buffer.View(NAME, "c1", int(time.time() * 1000), timezone.localdate())
        )
    assert len({key_slot(k.encode()) for k in script_keys}) == 1


def accuracy(client, n: int) -> float:
    started = time.monotonic()
    unique = sum(record(client, visitors(n)))
    seconds = time.monotonic() - started
    error = (unique - n) / n
    FIGURES.append(
        f"unique visitors, {n:>9,} distinct on one object in one day: {unique:>9,} "
        f"({error:+.2%}), {n / seconds:,.0f} views/s through record.lua"
    )
    return error


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_unique_figure_within_3_percent_of_distinct_visitors(redis_client, n):
    assert abs(accuracy(redis_client, n)) <= 0.03
    assert marks(redis_client, NAME) <= 1005  # the limit, give or take the estimate's error


@pytest.mark.slow
def test_unique_figure_within_3_percent_of_a_million_distinct_visitors(redis_client):
    assert abs(accuracy(redis_client, 1_000_000)) <= 0.03


def memory_of_visitors(client, n: int) -> int:
    """Redis memory left by one view of one object by each of ``n`` new visitors, stream aside."""
    client.flushall()  # the test's own server
    # Redis 7 allocates a latency histogram (~24 KB) for each command at its first use:
    # warm both paths up on another object so that only the visitors are measured.
    with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=1):
        record(client, ["warm-up", "warm-up 2"], ObjectName("testapp.article", "8"))
    before = client.info("memory")["used_memory"]
    record(client, visitors(n))
    return client.info("memory")["used_memory"] - before


def test_memory_is_bounded_by_the_limit_not_by_invented_visitors(own_redis):
    url, _restart = own_redis
    n, limit = 100_000, 1000
    with override_settings(DJINSIGHT_REDIS_URL=url):
        reset_clients()
        client = get_redis()
        with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=10**9):  # a mark for everyone
            unbounded = memory_of_visitors(client, n)
        with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=limit):
            bounded = {m: memory_of_visitors(client, m) for m in (n // 10, n)}
        client.close()
    mark = unbounded / n
    FIGURES.append(
        f"Redis memory for {n:,} new visitors of one object in a day: {unbounded:,} B with a "
        f"mark each ({mark:.0f} B a mark); {bounded[n]:,} B with "
        f"DJINSIGHT_UNIQUE_EXACT_LIMIT={limit} ({bounded[n // 10]:,} B for {n // 10:,})"
    )
    assert mark > 100
    # the marks, a 12 KB HyperLogLog, and the steps of Redis's dicts and buffers (up to
    # 40 KB between identical runs)
    assert bounded[n] < limit * mark + 128 * 1024
    assert bounded[n] - bounded[n // 10] < 64 * 1024  # 90,000 more visitors: under 1 B each
    assert unbounded > 50 * bounded[n]


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [0, 3, 1000])
def test_flush_makes_unique_views_the_sum_of_the_streams_flags(client, redis_client, limit):
    article = Article.objects.create(title="A", slug="a")
    name = ObjectName.of(article)
    with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=limit):
        for k in [0, 1, 2, 3, 4, 5, 1, 2, 6, 7, 0, 8, 9, 9]:
            assert beacon(client, article, **visitor(k)).status_code == 204
    entries = redis_client.xrange(keys_for(name).stream)
    flagged = sum(1 for _id, fields in entries if fields[ENTRY_UNIQUE.encode()] == b"1")
    assert len(entries) == 14
    assert flagged == 10
    flush.process_pageviews()
    article.refresh_from_db()
    assert (article.total_views, article.unique_views) == (14, flagged)
    assert get_object_stats(article).unique_views == flagged
