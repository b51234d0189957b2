"""Synthetic traffic history, recorded through djinsight's real buffer and flush.

Every view goes through ``djinsight.store.buffer.record_view`` (the same Redis script
the beacon endpoint runs) with a backdated timestamp, and
``djinsight.pipeline.flush.process_pageviews`` moves them into the database, so the
counters, daily summaries and raw logs the demo shows were made by the
pipeline itself. The traffic has a daily and a weekly rhythm, slow growth, a
launch bump for each article, one story trending this week, and a long tail.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.test import override_settings
from django.utils import timezone

from djinsight.models import PageViewSummary
from djinsight.pipeline.flush import process_pageviews
from djinsight.store import buffer
from djinsight.store.client import get_redis
from djinsight.store.keys import ObjectName

# Share of all traffic per kind of content, then a Zipf curve inside each kind.
KIND_SHARE = {
    "blog.article": 0.50,
    "shop.product": 0.22,
    "courses.course": 0.13,
    "blog.blogpage": 0.07,
    "courses.document": 0.04,
    "shop.category": 0.04,
}
WEEKDAY = [1.0, 1.08, 1.1, 1.05, 0.92, 0.55, 0.5]  # Monday first
HOURS = [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.5, 4.5, 5.0, 5.0,
         4.8, 5.0, 5.0, 4.6, 4.2, 4.0, 4.2, 4.5, 4.0, 3.0, 2.0, 1.4]  # fmt: skip
TRENDING = {"counting-unique-visitors-without-cookies", "mechanical-keyboard"}
REFERRERS = [
    ("", 40),
    ("https://www.google.com/", 24),
    ("https://duckduckgo.com/", 5),
    ("https://news.ycombinator.com/", 6),
    ("https://www.reddit.com/r/django/", 6),
    ("https://x.com/", 4),
    ("https://www.linkedin.com/", 3),
    ("https://djangoproject.com/community/", 2),
    ("INTERNAL", 10),
]
AGENTS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36", 34),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15", 14),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 18),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Mobile Safari/537.36", 14),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", 8),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", 7),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", 5),
]  # fmt: skip


def is_generated() -> bool:
    """History exists when flushed summaries reach back more than a week."""
    return PageViewSummary.objects.filter(
        date__lt=timezone.localdate() - timedelta(days=7)
    ).exists()


def _weights(objects) -> dict[ObjectName, float]:
    by_kind: dict[str, list] = {}
    for obj in objects:
        by_kind.setdefault(obj._meta.label_lower, []).append(obj)
    weights = {}
    for kind, objs in by_kind.items():
        share = KIND_SHARE.get(kind, 0.02)
        zipf = [1 / (rank + 1) ** 1.15 for rank in range(len(objs))]
        for obj, z in zip(objs, zipf, strict=True):
            weights[ObjectName.of(obj)] = share * z / sum(zipf)
    return weights


def _modifier(obj, day: date, today: date) -> float:
    """Launch bump for new articles, a surge for this week's trending items."""
    published = getattr(obj, "published_at", None)
    factor = 1.0
    if published is not None:
        age = (day - timezone.localtime(published).date()).days
        if age < 0:
            return 0.0
        factor *= 1 + 3 * math.exp(-age / 4)
    if getattr(obj, "slug", None) in TRENDING and (today - day).days < 7:
        factor *= 3.5
    return factor


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def plan(objects, days: int, target: int, seed: int = 4) -> list[tuple[object, date, int]]:
    """How many views each object gets each day: (object, day, views), oldest first."""
    rng = random.Random(seed)
    today = timezone.localdate()
    now = timezone.localtime()
    elapsed_today = sum(HOURS[: now.hour]) + HOURS[now.hour] * now.minute / 60
    weights = _weights(objects)
    expected = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        volume = (0.7 + 0.6 * (days - offset) / days) * WEEKDAY[day.weekday()]
        volume *= math.exp(rng.gauss(0, 0.12))
        if offset == 0:
            volume *= elapsed_today / sum(HOURS)
        for obj in objects:
            mean = volume * weights[ObjectName.of(obj)] * _modifier(obj, day, today)
            expected.append((obj, day, mean))
    scale = target / (sum(mean for _, _, mean in expected) or 1)
    return [(obj, day, _poisson(rng, mean * scale)) for obj, day, mean in expected]


class Traffic:
    """Visitors, agents and referrers for synthetic views."""

    def __init__(self, visitors: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.visitors = max(visitors, 10)
        self.regulars = max(self.visitors // 20, 5)
        agents, agent_weights = zip(*AGENTS, strict=True)
        self.refs, self.ref_weights = zip(*REFERRERS, strict=True)
        # a visitor keeps one id, one device and one (anonymised) network, as real ones mostly do
        self.ids = [
            hashlib.sha256(f"demo-visitor-{n}".encode()).hexdigest()[:24]
            for n in range(self.visitors)
        ]
        self.agents = self.rng.choices(agents, agent_weights, k=self.visitors)
        self.ips = [f"{83 + n % 90}.{n // 90 % 250}.{n % 250}.0" for n in range(self.visitors)]
        self.paths: dict[ObjectName, str] = {}

    def visitor(self) -> int:
        if self.rng.random() < 0.35:
            return self.rng.randrange(self.regulars)
        return self.rng.randrange(self.visitors)

    def view(
        self, obj, when: datetime, internal: list[str], day: date | None = None
    ) -> buffer.View:
        n = self.visitor()
        name = ObjectName.of(obj)
        if name not in self.paths:
            self.paths[name] = obj.get_tracking_url()
        referrer = self.rng.choices(self.refs, self.ref_weights)[0]
        if referrer == "INTERNAL":
            referrer = "http://127.0.0.1:8000" + self.rng.choice(internal)
        return buffer.View(
            name=name,
            visitor=self.ids[n],
            timestamp_ms=int(when.timestamp() * 1000),
            day=day or timezone.localtime(when).date(),
            path=self.paths[name],
            referrer=referrer,
            user_agent=self.agents[n],
            ip=self.ips[n],
        )


def _moments(rng: random.Random, day: date, count: int, now: datetime) -> list[datetime]:
    tz = timezone.get_current_timezone()
    hours = range(24) if day < now.date() else range(now.hour + 1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    latest = now - timedelta(seconds=1)
    return [
        min(midnight + timedelta(hours=hour, seconds=rng.randrange(3600)), latest)
        for hour in rng.choices(hours, [HOURS[h] for h in hours], k=count)
    ]


def generate(
    objects,
    days: int = 90,
    target: int = 40_000,
    say: Callable[[str], None] = print,
    pipeline_size: int = 2000,
) -> int:
    """Record ``target`` (about) views over ``days`` days and flush them; returns the count."""
    started = time.monotonic()
    traffic = Traffic(visitors=target // 6)
    internal = [traffic.paths.setdefault(ObjectName.of(o), o.get_tracking_url()) for o in objects]
    now = timezone.localtime()
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    recorded = queued = 0
    by_day: dict[date, list] = {}
    for obj, day, count in plan(objects, days, target):
        by_day.setdefault(day, []).append((obj, count))
    # Months replayed in a minute would look like inflation: the budgets are for live beacons.
    with override_settings(DJINSIGHT_RATE_LIMIT=None):
        for day in sorted(by_day):
            views = []
            for obj, count in by_day[day]:
                views += [(when, obj) for when in _moments(traffic.rng, day, count, now)]
            views.sort(key=lambda v: v[0])  # the buffer sees each day in time order
            for when, obj in views:
                buffer.record_view(traffic.view(obj, when, internal, day), client=pipe)
                queued += 1
                if queued >= pipeline_size:
                    pipe.execute()
                    recorded, queued = recorded + queued, 0
            if day.day == 1 or day == max(by_day):
                say(f"  recorded {recorded + queued:,} views up to {day:%d %b}")
    pipe.execute()
    recorded += queued
    record_time = time.monotonic() - started
    say(f"  recorded {recorded:,} views in {record_time:.1f}s; flushing them into the database…")
    result = process_pageviews()
    say(
        f"  flushed {result.views:,} views in {result.batches} batches "
        f"({time.monotonic() - started - record_time:.1f}s)"
    )
    return recorded
