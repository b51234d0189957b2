"""Analytics figures for the dashboard, the API and exports.

Views and unique views come from the daily summaries and their rollups (per
type and day, per object and week), and the referrer, path, browser, OS, device
and hour panels from the daily dimension totals, so a report costs
O(days × values shown) whatever the traffic. Raw logs are read only by exports.

"Unique" is the figure the tracker counts: the first view of an object by a
visitor within ``DJINSIGHT_REDIS_EXPIRATION`` for its first
``DJINSIGHT_UNIQUE_EXACT_LIMIT`` visitors of a day, then the day's estimated
distinct visitors (docs/architecture.md, "Unique views"). "Returning" views are
the rest.

Every figure above is of human views only; bots' views are kept apart
(``PageViewBotSummary``) and read by ``reports.audience``; ``reports.dashboard``
puts all the panels together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from djinsight.models import (
    PageViewDailyTotal,
    PageViewDimensionTotal,
    PageViewSummary,
)
from djinsight.reports import ranges
from djinsight.reports.params import DateRange
from djinsight.rules import week_start

GRANULARITIES = ("day", "week", "month")
LOG_DIMENSIONS = PageViewDimensionTotal.LOG_DIMENSIONS


# -- figures from summaries --------------------------------------------------------


def daily(since: date, until: date, content_type=None, object_id=None) -> QuerySet:
    """Rows with ``date``, ``total_views`` and ``unique_views`` for the days asked.

    Site- or type-wide figures read the per-type daily totals (a row per type
    per day); only one object's figures need its daily summaries.
    """
    qs: QuerySet
    if object_id is None:
        qs = PageViewDailyTotal.objects.filter(date__gte=since, date__lte=until)
    else:
        qs = PageViewSummary.objects.filter(date__gte=since, date__lte=until, object_id=object_id)
    if content_type is not None:
        qs = qs.filter(content_type=content_type)
    return qs


@dataclass
class Totals:
    views: int = 0
    unique: int = 0
    previous_views: int = 0
    previous_unique: int = 0

    @property
    def returning(self) -> int:
        return self.views - self.unique

    @property
    def views_per_visitor(self) -> float:
        return round(self.views / self.unique, 2) if self.unique else 0.0

    @property
    def previous_views_per_visitor(self) -> float:
        return round(self.previous_views / self.previous_unique, 2) if self.previous_unique else 0.0

    @property
    def views_change(self) -> float | None:
        return change(self.views, self.previous_views)

    @property
    def unique_change(self) -> float | None:
        return change(self.unique, self.previous_unique)

    def as_dict(self) -> dict:
        return {
            "views": self.views,
            "unique_visitors": self.unique,
            "returning_views": self.returning,
            "views_per_visitor": self.views_per_visitor,
            "previous": {
                "views": self.previous_views,
                "unique_visitors": self.previous_unique,
                "views_per_visitor": self.previous_views_per_visitor,
            },
            "change": {"views": self.views_change, "unique_visitors": self.unique_change},
        }


def change(current: int, previous: int) -> float | None:
    """Growth in percent; None when there is nothing to compare with."""
    if not previous:
        return None
    return round((current - previous) * 100 / previous, 1)


def totals(rng: DateRange, content_type=None, object_id=None) -> Totals:
    """This period and the previous one, in one query."""
    prev = rng.previous()
    now, before = Q(date__gte=rng.since), Q(date__lt=rng.since)
    row = daily(prev.since, rng.until, content_type, object_id).aggregate(
        views=Coalesce(Sum("total_views", filter=now), 0),
        unique=Coalesce(Sum("unique_views", filter=now), 0),
        previous_views=Coalesce(Sum("total_views", filter=before), 0),
        previous_unique=Coalesce(Sum("unique_views", filter=before), 0),
    )
    return Totals(**{k: int(v) for k, v in row.items()})


@dataclass
class Point:
    start: date
    views: int = 0
    unique: int = 0

    def as_dict(self) -> dict:
        return {"date": self.start.isoformat(), "views": self.views, "unique_visitors": self.unique}


def bucket_start(day: date, granularity: str) -> date:
    if granularity == "week":
        return week_start(day)
    if granularity == "month":
        return day.replace(day=1)
    return day


def series(
    rng: DateRange, granularity: str = "day", content_type=None, object_id=None
) -> list[Point]:
    """Views per day, week (from Monday) or month, with empty buckets filled in. One query."""
    qs = daily(rng.since, rng.until, content_type, object_id)
    if granularity == "day":
        qs = qs.values(bucket=F("date"))
    else:
        trunc = TruncWeek if granularity == "week" else TruncMonth
        qs = qs.annotate(bucket=trunc("date")).values("bucket")
    rows = qs.annotate(views=Sum("total_views"), unique=Sum("unique_views")).order_by("bucket")
    points: dict[date, Point] = {}
    for day in rng.dates():
        start = bucket_start(day, granularity)
        points.setdefault(start, Point(start))
    for row in rows:
        bucket = row["bucket"]
        bucket = bucket.date() if isinstance(bucket, datetime) else bucket
        point = points.setdefault(bucket, Point(bucket))
        point.views, point.unique = int(row["views"] or 0), int(row["unique"] or 0)
    return sorted(points.values(), key=lambda p: p.start)


@dataclass
class ContentRow:
    content_type_id: int
    object_id: str
    views: int = 0
    unique: int = 0
    previous_views: int = 0
    # filled by resolve()
    label: str = ""
    name: str = ""
    url: str = ""
    admin_url: str = ""
    exists: bool = False

    @property
    def growth(self) -> int:
        return self.views - self.previous_views

    @property
    def growth_percent(self) -> float | None:
        return change(self.views, self.previous_views)

    def as_dict(self) -> dict:
        return {
            "content_type": self.label,
            "object_id": self.object_id,
            "name": self.name,
            "url": self.url,
            "views": self.views,
            "unique_visitors": self.unique,
            "previous_views": self.previous_views,
            "growth_percent": self.growth_percent,
        }


def _content_rows(rows: Iterable[tuple]) -> list[ContentRow]:
    return [
        ContentRow(ct_id, object_id, int(views or 0), int(unique or 0), int(previous or 0))
        for ct_id, object_id, views, unique, previous in rows
    ]


def top_content(
    rng: DateRange, content_type=None, limit: int = 10, offset: int = 0
) -> list[ContentRow]:
    """Most viewed objects in the range. One query (resolve names with resolve())."""
    sql, params = ranges.per_object(rng, content_type)
    qn = connection.ops.quote_name
    order = f"views DESC, {qn('content_type_id')}, {qn('object_id')}"
    rows = ranges.fetch(f"{sql} ORDER BY {order} LIMIT %s OFFSET %s", [*params, limit, offset])
    return _content_rows(rows)


def count_content(rng: DateRange, content_type=None) -> int:
    """How many objects were viewed in the range (for pagination). One query."""
    sql, params = ranges.per_object(rng, content_type)
    return ranges.fetch(f"SELECT COUNT(*) FROM ({sql}) g", params)[0][0]  # noqa: S608


def top_per_type(rng: DateRange, limit: int = 5) -> dict[int, list[ContentRow]]:
    """The ``limit`` most viewed objects of each content type, in one windowed query.

    Raw SQL because the ORM puts a window over an aggregate into GROUP BY.
    ROW_NUMBER() runs on SQLite ≥ 3.25, PostgreSQL, MySQL 8 and MariaDB ≥ 10.2.
    """
    sql, params = ranges.per_object(rng)
    qn = connection.ops.quote_name
    ct, oid = qn("content_type_id"), qn("object_id")
    ranked = (
        f"SELECT {ct}, {oid}, views, uniq, prev FROM ("  # noqa: S608
        f" SELECT g.*, ROW_NUMBER() OVER (PARTITION BY {ct} ORDER BY views DESC, {oid}) AS rnk"
        f" FROM ({sql}) g) ranked WHERE rnk <= %s ORDER BY {ct}, rnk"
    )
    result: dict[int, list[ContentRow]] = defaultdict(list)
    for row in _content_rows(ranges.fetch(ranked, [*params, limit])):
        result[row.content_type_id].append(row)
    return dict(result)


def trending(rng: DateRange, limit: int = 10, content_type=None) -> list[ContentRow]:
    """Objects whose views grew most against the previous period of the same length."""
    sql, params = ranges.per_object(rng, content_type, previous=True)
    qn = connection.ops.quote_name
    order = f"views - prev DESC, views DESC, {qn('content_type_id')}, {qn('object_id')}"
    grown = f"SELECT * FROM ({sql}) g WHERE views - prev > 0 ORDER BY {order} LIMIT %s"  # noqa: S608
    return _content_rows(ranges.fetch(grown, [*params, limit]))


@dataclass
class TypeRow:
    content_type_id: int
    views: int
    unique: int
    previous_views: int
    objects: int
    label: str = ""
    name: str = ""

    @property
    def growth_percent(self) -> float | None:
        return change(self.views, self.previous_views)

    def as_dict(self) -> dict:
        return {
            "content_type": self.label,
            "name": self.name,
            "views": self.views,
            "unique_visitors": self.unique,
            "previous_views": self.previous_views,
            "growth_percent": self.growth_percent,
            "objects": self.objects,
        }


def content_types(rng: DateRange) -> list[TypeRow]:
    """Per content type: views now and before (daily totals), and how many objects were viewed."""
    prev = rng.previous()
    now = Q(date__gte=rng.since)
    rows = (
        daily(prev.since, rng.until)
        .values("content_type_id")
        .annotate(
            views=Coalesce(Sum("total_views", filter=now), 0),
            unique=Coalesce(Sum("unique_views", filter=now), 0),
            previous=Coalesce(Sum("total_views", filter=~now), 0),
        )
        .order_by("-views", "content_type_id")
    )
    sql, params = ranges.per_object(rng)
    ct = connection.ops.quote_name("content_type_id")
    objects = dict(ranges.fetch(f"SELECT {ct}, COUNT(*) FROM ({sql}) g GROUP BY {ct}", params))  # noqa: S608
    return [
        TypeRow(
            r["content_type_id"],
            int(r["views"]),
            int(r["unique"]),
            int(r["previous"]),
            objects.get(r["content_type_id"], 0),
        )
        for r in rows
    ]


# -- figures of the raw logs' dimensions ------------------------------------------


def dimension_totals(rng: DateRange, dimension: str) -> QuerySet:
    return PageViewDimensionTotal.objects.filter(
        dimension=dimension, date__gte=rng.since, date__lte=rng.until
    )


def top_values(rng: DateRange, dimension: str, limit: int = 10) -> list[tuple[str, int]]:
    """Most frequent referrer domains, paths, browsers, OSes or devices. One query."""
    if dimension not in LOG_DIMENSIONS:
        raise ValueError(dimension)
    rows = (
        dimension_totals(rng, dimension)
        .values_list("value")
        .annotate(n=Sum("views"))
        .order_by("-n", "value")[:limit]
    )
    return [(value, n) for value, n in rows]


def hours(rng: DateRange) -> list[int]:
    """Views per hour of day (0–23, site time). One query."""
    counts = [0] * 24
    rows = dimension_totals(rng, "hour").values_list("value").annotate(n=Sum("views")).order_by()
    for hour, n in rows:
        counts[int(hour)] += n
    return counts
