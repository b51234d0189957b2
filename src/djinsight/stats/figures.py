"""Live figures for objects: Redis for what is not flushed yet, the database otherwise.

"Today", "this week" and "this month" are calendar periods in the site's
TIME_ZONE; weeks start on Monday.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

import redis
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from djinsight.exceptions import ConfigurationError
from djinsight.models import PageViewSummary
from djinsight.rules import week_start
from djinsight.store import buffer
from djinsight.store.client import read_outage, read_redis
from djinsight.store.keys import ObjectName

logger = logging.getLogger("djinsight")


@dataclass
class ViewStats:
    total_views: int = 0
    unique_views: int = 0
    views_today: int = 0
    views_week: int = 0
    views_month: int = 0
    first_viewed_at: datetime | None = None
    last_viewed_at: datetime | None = None
    # views per day from the start of this week or month (whichever is earlier) to today
    daily: dict[date, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "total_views": self.total_views,
            "unique_views": self.unique_views,
            "views_today": self.views_today,
            "views_week": self.views_week,
            "views_month": self.views_month,
            "first_viewed_at": self.first_viewed_at.isoformat() if self.first_viewed_at else None,
            "last_viewed_at": self.last_viewed_at.isoformat() if self.last_viewed_at else None,
        }


@dataclass(frozen=True)
class Periods:
    today: date
    week_start: date
    month_start: date

    @classmethod
    def current(cls) -> Periods:
        today = timezone.localdate()
        return cls(today, week_start(today), today.replace(day=1))

    @cached_property
    def days(self) -> list[date]:
        start = min(self.week_start, self.month_start)
        return [start + timedelta(days=i) for i in range((self.today - start).days + 1)]

    def apply(self, stats: ViewStats, per_day: dict[date, int]) -> None:
        stats.daily = {d: per_day.get(d, 0) for d in self.days}
        stats.views_today = per_day.get(self.today, 0)
        stats.views_week = sum(v for d, v in per_day.items() if self.week_start <= d <= self.today)
        stats.views_month = sum(
            v for d, v in per_day.items() if self.month_start <= d <= self.today
        )


def _ms_to_dt(ms: int | None) -> datetime | None:
    return buffer.ms_to_datetime(ms) if ms else None


def _earliest(*values):
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _latest(*values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def get_stats(objects: Iterable, live: dict | None = None) -> dict[ObjectName, ViewStats]:
    """Live figures for many objects: one Redis round trip, SQL only for unseeded objects.

    ``live``: rows a caller already read with ``buffer.read_live`` (for the current
    ``Periods.days``), so Redis is not asked twice.
    """
    objects = [o for o in objects if o is not None and o.pk is not None]
    periods = Periods.current()
    names = {ObjectName.of(o): o for o in objects}
    if live is None:
        live = read_live_or_nothing(list(names), periods)
    result: dict[ObjectName, ViewStats] = {}
    need_days = []
    for name, obj in names.items():
        stats, row = stored_stats(obj), live.get(name)
        if row is not None and row.seeded:
            stats.total_views, stats.unique_views = row.total, row.unique
            periods.apply(stats, row.days)
        else:
            if row is not None:
                stats.total_views += row.total
                stats.unique_views += row.unique
            if getattr(obj, "total_views", 0):
                need_days.append(name)
            else:
                periods.apply(stats, row.days if row else {})
        if row is not None:
            stats.first_viewed_at = _earliest(stats.first_viewed_at, _ms_to_dt(row.first_ms))
            stats.last_viewed_at = _latest(stats.last_viewed_at, _ms_to_dt(row.last_ms))
        result[name] = stats
    if need_days:
        _add_database_days(result, need_days, live, periods)
    return result


def live_totals(objects: Iterable) -> dict[ObjectName, int]:
    """All-time views of many objects, live: one Redis round trip and no SQL (the
    stored figures are the instances' own columns). For listings that show one figure."""
    objects = [o for o in objects if o is not None and o.pk is not None]
    names = {ObjectName.of(o): o for o in objects}
    live = read_live_or_nothing(list(names), Periods.current(), days=[])
    totals = {}
    for name, obj in names.items():
        row, stored = live.get(name), getattr(obj, "total_views", 0) or 0
        if row is None:
            totals[name] = stored
        else:  # a seeded counter holds everything; else it holds the views not flushed yet
            totals[name] = row.total if row.seeded else stored + row.total
    return totals


def get_stats_and_days(
    objects: Iterable, days: list[date]
) -> tuple[dict[ObjectName, ViewStats], dict[ObjectName, dict[date, int]]]:
    """``get_stats``, plus views per day over ``days`` (within the last ``STATS_DAYS``),
    in the same Redis round trip; one SQL query for objects Redis can't answer alone.
    """
    objects = [o for o in objects if o is not None and o.pk is not None]
    periods = Periods.current()
    names = [ObjectName.of(o) for o in objects]
    live = read_live_or_nothing(names, periods, sorted({*periods.days, *days}))
    stats = get_stats(objects, live=live)
    per_day: dict[ObjectName, dict[date, int]] = {}
    stored: list[ObjectName] = []
    for name in names:
        row = live.get(name)
        if row is not None and row.seeded:  # the stats hash holds every view of those days
            per_day[name] = {d: row.days.get(d, 0) for d in days}
        else:  # the summaries, plus the pending views
            per_day[name] = {d: (row.days.get(d, 0) if row else 0) for d in days}
            stored.append(name)
    if stored and days:
        for name, day, views in _summary_days(stored, days[0], days[-1]):
            if day in per_day[name]:
                per_day[name][day] += views
    return stats, per_day


def _summary_days(names: list[ObjectName], since: date, until: date) -> Iterable[tuple]:
    by_label: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_label[name.label].append(name.pk)
    for label, pks in by_label.items():
        ct = ContentType.objects.get_by_natural_key(*label.split("."))
        rows = PageViewSummary.objects.filter(
            content_type=ct, object_id__in=pks, date__gte=since, date__lte=until
        ).values_list("object_id", "date", "total_views")
        for pk, day, views in rows:
            yield ObjectName(label, pk), day, views


def read_live_or_nothing(
    names: list[ObjectName], periods: Periods, days: list[date] | None = None
) -> dict:
    """``buffer.read_live`` (for ``periods.days``, or ``days``), or {} (logged once)
    while Redis is unavailable or slower than DJINSIGHT_READ_TIMEOUT: the callers
    then show the database's figures."""
    if read_outage.should_skip():
        return {}
    try:
        days = periods.days if days is None else days
        live = buffer.read_live(names, days, client=read_redis())
    except (redis.RedisError, OSError, ConfigurationError) as exc:
        read_outage.failed(exc)
        return {}
    read_outage.succeeded()
    return live


def stored_stats(obj) -> ViewStats:
    """The figures the database holds on the instance (its mixin columns)."""
    return ViewStats(
        total_views=getattr(obj, "total_views", 0) or 0,
        unique_views=getattr(obj, "unique_views", 0) or 0,
        first_viewed_at=getattr(obj, "first_viewed_at", None),
        last_viewed_at=getattr(obj, "last_viewed_at", None),
    )


def _add_database_days(result, names: list[ObjectName], live, periods: Periods) -> None:
    """Per-day figures from summaries (plus pending views) for objects Redis can't answer."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_label[name.label].append(name.pk)
    per_day: dict[ObjectName, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for label, pks in by_label.items():
        app_label, model = label.split(".")
        ct = ContentType.objects.get_by_natural_key(app_label, model)
        rows = PageViewSummary.objects.filter(
            content_type=ct, object_id__in=pks, date__gte=periods.days[0]
        ).values_list("object_id", "date", "total_views")
        for pk, day, views in rows:
            per_day[ObjectName(label, pk)][day] += views
    for name in names:
        row = live.get(name)
        for day, views in (row.days if row else {}).items():
            per_day[name][day] += views
        periods.apply(result[name], per_day[name])


def get_object_stats(obj) -> ViewStats:
    return get_stats([obj]).get(ObjectName.of(obj), ViewStats())
