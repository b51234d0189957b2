"""Analytics figures for the dashboard, the API and exports.

Views and unique views come from the daily summaries and their rollups (per
type and day, per object and week), and the referrer, path, browser, OS, device
and hour panels from the daily dimension totals, so a report costs
O(days × values shown) whatever the traffic. Raw logs are read only by exports.

"Unique" is the figure the tracker counts: the first view of an object by a
visitor within ``DJINSIGHT_REDIS_EXPIRATION``. "Returning" views are the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.urls import NoReverseMatch, reverse

from .models import (
    PageViewDailyTotal,
    PageViewDimensionTotal,
    PageViewSummary,
    PageViewWeeklySummary,
)
from .params import DateRange

GRANULARITIES = ("day", "week", "month")
LOG_DIMENSIONS = ("referrer_domain", "path", "browser", "os", "device")


# -- figures from summaries --------------------------------------------------------


def per_object(rng: DateRange, content_type=None, previous: bool = False) -> tuple[str, list]:
    """SQL and parameters: a row per object viewed in ``rng`` (with ``previous``,
    also in the period before), columns ``content_type_id``, ``object_id``,
    ``views``, ``uniq`` and ``prev`` (views in the period before, else 0).

    A range is read in parts: the days before its first Monday from the daily
    summaries, its whole weeks from the weekly summaries, and its last week
    (Monday to ``until``) from the weekly summaries too when nothing was viewed
    after ``until`` in that week (a range ending today), else from the daily
    summaries. 30 days cost about 7 rows per object instead of 30.
    """
    qn = connection.ops.quote_name
    ct, oid, tv, uv = map(qn, ("content_type_id", "object_id", "total_views", "unique_views"))
    weekly, daily = (qn(m._meta.db_table) for m in (PageViewWeeklySummary, PageViewSummary))
    week, day = qn("week"), qn("date")
    by_type, type_params = "", []
    if content_type is not None:
        by_type, type_params = f" AND {ct} = %s", [content_type.pk]
    # uncorrelated: evaluated once per query, and a part it turns off is not read at all
    later = f"EXISTS (SELECT 1 FROM {daily} WHERE {day} > %s AND {day} < %s)"  # noqa: S608
    selects, params = [], []

    def read(part: int, table: str, where: str, *days: date) -> None:
        # only quoted identifiers and the part's index are interpolated; values are parameters
        selects.append(
            f"SELECT {ct}, {oid}, {part} AS part, {tv}, {uv} FROM {table}"  # noqa: S608
            f" WHERE {where}{by_type}"
        )
        params.extend([*(connection.ops.adapt_datefield_value(d) for d in days), *type_params])

    for part, period in enumerate([rng, rng.previous()] if previous else [rng]):
        since, until = period.since, period.until
        first = since + timedelta(days=-since.weekday() % 7)  # the first Monday in the range
        last = PageViewWeeklySummary.week_of(until)  # the last week's Monday
        if first > until:  # a few days inside one week
            read(part, daily, f"{day} >= %s AND {day} <= %s", since, until)
            continue
        after = last + timedelta(days=7)
        read(part, daily, f"{day} >= %s AND {day} < %s", since, first)
        read(part, weekly, f"{week} >= %s AND {week} < %s", first, last)
        read(part, weekly, f"{week} = %s AND NOT {later}", last, until, after)
        read(part, daily, f"{day} >= %s AND {day} <= %s AND {later}", last, until, until, after)
    views, uniq, prev = (
        f"SUM(CASE WHEN part = {part} THEN {column} ELSE 0 END)"
        for part, column in ((0, tv), (0, uv), (1, tv))
    )
    sql = (
        f"SELECT {ct}, {oid}, {views} AS views, {uniq} AS uniq, {prev} AS prev"  # noqa: S608
        f" FROM ({' UNION ALL '.join(selects)}) r GROUP BY {ct}, {oid}"
    )
    return sql, params


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def daily(since: date, until: date, content_type=None, object_id=None) -> QuerySet:
    """Rows with ``date``, ``total_views`` and ``unique_views`` for the days asked.

    Site- or type-wide figures read the per-type daily totals (a row per type
    per day); only one object's figures need its daily summaries.
    """
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
        return day - timedelta(days=day.weekday())
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
    sql, params = per_object(rng, content_type)
    qn = connection.ops.quote_name
    order = f"views DESC, {qn('content_type_id')}, {qn('object_id')}"
    rows = _fetch(f"{sql} ORDER BY {order} LIMIT %s OFFSET %s", [*params, limit, offset])
    return _content_rows(rows)


def count_content(rng: DateRange, content_type=None) -> int:
    """How many objects were viewed in the range (for pagination). One query."""
    sql, params = per_object(rng, content_type)
    return _fetch(f"SELECT COUNT(*) FROM ({sql}) g", params)[0][0]  # noqa: S608


def top_per_type(rng: DateRange, limit: int = 5) -> dict[int, list[ContentRow]]:
    """The ``limit`` most viewed objects of each content type, in one windowed query.

    Raw SQL because the ORM puts a window over an aggregate into GROUP BY.
    ROW_NUMBER() runs on SQLite ≥ 3.25, PostgreSQL, MySQL 8 and MariaDB ≥ 10.2.
    """
    sql, params = per_object(rng)
    qn = connection.ops.quote_name
    ct, oid = qn("content_type_id"), qn("object_id")
    ranked = (
        f"SELECT {ct}, {oid}, views, uniq, prev FROM ("  # noqa: S608
        f" SELECT g.*, ROW_NUMBER() OVER (PARTITION BY {ct} ORDER BY views DESC, {oid}) AS rnk"
        f" FROM ({sql}) g) ranked WHERE rnk <= %s ORDER BY {ct}, rnk"
    )
    result: dict[int, list[ContentRow]] = defaultdict(list)
    for row in _content_rows(_fetch(ranked, [*params, limit])):
        result[row.content_type_id].append(row)
    return dict(result)


def trending(rng: DateRange, limit: int = 10, content_type=None) -> list[ContentRow]:
    """Objects whose views grew most against the previous period of the same length."""
    sql, params = per_object(rng, content_type, previous=True)
    qn = connection.ops.quote_name
    order = f"views - prev DESC, views DESC, {qn('content_type_id')}, {qn('object_id')}"
    grown = f"SELECT * FROM ({sql}) g WHERE views - prev > 0 ORDER BY {order} LIMIT %s"  # noqa: S608
    return _content_rows(_fetch(grown, [*params, limit]))


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
    sql, params = per_object(rng)
    ct = connection.ops.quote_name("content_type_id")
    objects = dict(_fetch(f"SELECT {ct}, COUNT(*) FROM ({sql}) g GROUP BY {ct}", params))  # noqa: S608
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


# -- naming objects without N+1 ----------------------------------------------------


def resolve(rows: Iterable[ContentRow | TypeRow]) -> None:
    """Fill labels, display names and links: one query for content types plus
    one per content type for the objects, whatever the number of rows."""
    rows = list(rows)
    ct_ids = {r.content_type_id for r in rows}
    if not ct_ids:
        return
    cts = ContentType.objects.in_bulk(ct_ids)
    wanted: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        if isinstance(r, ContentRow):
            wanted[r.content_type_id].add(r.object_id)
    objects: dict[tuple[int, str], object] = {}
    for ct_id, pks in wanted.items():
        ct = cts.get(ct_id)
        model = ct.model_class() if ct else None
        if model is None:
            continue
        valid = []
        for pk in pks:
            try:
                valid.append(model._meta.pk.to_python(pk))
            except (ValidationError, ValueError, TypeError):
                continue
        for obj in model._default_manager.filter(pk__in=valid):
            objects[(ct_id, str(obj.pk))] = obj
    for r in rows:
        ct = cts.get(r.content_type_id)
        r.label = f"{ct.app_label}.{ct.model}" if ct else str(r.content_type_id)
        if isinstance(r, TypeRow):
            model = ct.model_class() if ct else None
            r.name = str(model._meta.verbose_name_plural) if model else r.label
            continue
        obj = objects.get((r.content_type_id, r.object_id))
        r.exists = obj is not None
        if obj is None:
            r.name = f"{r.label}:{r.object_id} (deleted)"
            continue
        r.name = _display_name(obj)
        r.url = _public_url(obj)
        r.admin_url = _admin_url(obj)


def _display_name(obj) -> str:
    get_name = getattr(obj, "get_display_name", None)
    try:
        return str(get_name() if get_name else obj)[:300]
    except Exception:  # a user's __str__ must not break the dashboard
        return f"{obj._meta.label_lower}:{obj.pk}"


def _public_url(obj) -> str:
    try:
        get_url = getattr(obj, "get_tracking_url", None) or getattr(obj, "get_absolute_url", None)
        url = get_url() if get_url else ""
    except Exception:
        return ""
    url = url or ""
    # only site-relative or http(s) links; never javascript: and friends
    return url if url.startswith(("/", "http://", "https://")) and not url.startswith("//") else ""


def _admin_url(obj) -> str:
    meta = obj._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


@dataclass
class Dashboard:
    """Every figure of the analytics dashboard for one range."""

    range: DateRange
    granularity: str
    totals: Totals
    series: list[Point]
    top: list[ContentRow]
    per_type: list[tuple[TypeRow, list[ContentRow]]]
    trending: list[ContentRow]
    types: list[TypeRow]
    referrers: list[tuple[str, int]]
    paths: list[tuple[str, int]]
    browsers: list[tuple[str, int]]
    oses: list[tuple[str, int]]
    devices: list[tuple[str, int]]
    hours: list[int] = field(default_factory=list)


def dashboard(rng: DateRange, granularity: str = "day", limit: int = 10) -> Dashboard:
    """All panels: a fixed number of queries (12 + one per content type shown)."""
    top = top_content(rng, limit=limit)
    per_type_rows = top_per_type(rng, limit=5)
    trend = trending(rng, limit=limit)
    types = content_types(rng)
    resolve([*top, *trend, *types, *(r for rows in per_type_rows.values() for r in rows)])
    return Dashboard(
        range=rng,
        granularity=granularity,
        totals=totals(rng),
        series=series(rng, granularity),
        top=top,
        per_type=[(t, per_type_rows.get(t.content_type_id, [])) for t in types if t.views],
        trending=trend,
        types=types,
        referrers=top_values(rng, "referrer_domain"),
        paths=top_values(rng, "path"),
        browsers=top_values(rng, "browser"),
        oses=top_values(rng, "os"),
        devices=top_values(rng, "device"),
        hours=hours(rng),
    )
