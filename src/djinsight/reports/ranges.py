"""Per-object figures over a date range, read from weekly and daily summaries.

Rankings (top content, trending, counts) group a row per object; reading whole
weeks from the weekly summaries keeps that to about one row per object per
week instead of one per day.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection

from djinsight.models import PageViewSummary, PageViewWeeklySummary
from djinsight.reports.params import DateRange
from djinsight.rules import week_start


def per_object(rng: DateRange, content_type=None, previous: bool = False) -> tuple[str, list]:
    """SQL and parameters: a row per object viewed in ``rng`` (with ``previous``,
    also in the period before), columns ``content_type_id``, ``object_id``,
    ``views``, ``uniq`` and ``prev`` (views in the period before, else 0).
    ``content_type``: one ContentType, a list of them, or None for all.

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
    if isinstance(content_type, (list, tuple)):  # several types (Wagtail's page types)
        by_type = f" AND {ct} IN ({', '.join(['%s'] * len(content_type))})"
        type_params = [t.pk for t in content_type]
        if not content_type:
            by_type = " AND 1 = 0"
    elif content_type is not None:
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
        first = week_start(since + timedelta(days=6))  # the first Monday in the range
        last = week_start(until)  # the last week's Monday
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


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
