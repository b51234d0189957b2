"""Tracked Wagtail pages and their figures over a range, a page of rows at a time.

The figures come from ``reports.ranges.per_object`` (weekly and daily
summaries), joined in SQL to the pages a report lists, so sorting by views
and paginating cost one query whatever the number of pages.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import CharField, F, QuerySet
from django.db.models.functions import Cast
from wagtail.models import Page, get_page_models

from djinsight.reports import queries, ranges
from djinsight.reports.params import DateRange
from djinsight.rules import is_tracked_model

CHUNK = 500  # rows per query when a whole report is exported


def tracked_page_models() -> list[type[Page]]:
    return [model for model in get_page_models() if is_tracked_model(model)]


def tracked_page_types() -> list[ContentType]:
    """Content types of the page models that use the mixin (cached by Django after the first)."""
    found = ContentType.objects.get_for_models(*tracked_page_models())
    return sorted(found.values(), key=lambda ct: ct.pk)


def tracked_pages() -> QuerySet:
    """Every page of a tracked type, the root left out."""
    return Page.objects.filter(depth__gt=1, content_type__in=tracked_page_types())


# sort key -> (SQL keys that keep their direction, the SQL key the direction applies to),
# over the ``r`` rows of PageFigures.sql
ORDERINGS = {
    "views": ((), "r.views"),
    "unique": ((), "r.uniq"),
    # pages with nothing to compare with sort after the others, in either direction
    "change": (
        ("CASE WHEN r.prev > 0 THEN 0 ELSE 1 END",),
        "CASE WHEN r.prev > 0 THEN (r.views - r.prev) * 1.0 / r.prev ELSE 0 END",
    ),
    "title": ((), "r.title"),
}


def order_by(ordering: str) -> str:
    """SQL ORDER BY for ``views``, ``-views``, ...; the tree order breaks ties."""
    fixed, key = ORDERINGS[ordering.lstrip("-")]
    return ", ".join([*fixed, key + (" DESC" if ordering.startswith("-") else ""), "r.path"])


class PageFigures:
    """Pages with their views, unique visitors and previous-period views in ``rng``.

    A sequence Django's paginator can count and slice: ``count()`` is one
    query, a slice is two (the figures, then the pages). Items are base
    ``Page`` instances with ``period_views``, ``period_unique``,
    ``previous_views`` and ``views_change`` (percent, or None) set.
    """

    def __init__(self, pages: QuerySet, rng: DateRange, ordering: str = "-views") -> None:
        self.pages = pages
        self.range = rng
        self.ordering = ordering if ordering.lstrip("-") in ORDERINGS else "-views"
        self.model = Page  # for Wagtail's spreadsheet headings

    def count(self) -> int:
        return self.pages.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Page]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("PageFigures only takes slices, such as [0:50]")
        start = index.start or 0
        stop = index.stop if index.stop is not None else start + CHUNK
        return self.fetch(limit=max(stop - start, 0), offset=start)

    def __iter__(self) -> Iterator[Page]:
        offset = 0
        while True:
            rows = self.fetch(limit=CHUNK, offset=offset)
            yield from rows
            if len(rows) < CHUNK:
                return
            offset += CHUNK

    def fetch(self, limit: int, offset: int) -> list[Page]:
        if limit <= 0:
            return []
        rows = ranges.fetch(*self.sql(limit, offset))
        pages = Page.objects.in_bulk([row[0] for row in rows])
        result = []
        for pk, views, unique, previous in rows:
            page = pages.get(pk)
            if page is None:  # deleted between the two queries
                continue
            page.period_views, page.period_unique = int(views), int(unique)
            page.previous_views = int(previous)
            page.views_change = queries.change(page.period_views, page.previous_views)
            result.append(page)
        return result

    def sql(self, limit: int, offset: int) -> tuple[str, list]:
        qn = connection.ops.quote_name
        listed = (
            self.pages.order_by()
            .values(
                page_id=F("pk"),
                page_type=F("content_type_id"),
                page_title=F("title"),
                page_path=F("path"),
                page_ref=Cast("pk", CharField(max_length=64)),
            )
            .query
        )
        pages_sql, pages_params = listed.sql_with_params()
        types = tracked_page_types()
        figures_sql, figures_params = ranges.per_object(self.range, types, previous=True)
        ct, oid = qn("content_type_id"), qn("object_id")
        sql = (
            "SELECT r.page_id, r.views, r.uniq, r.prev FROM ("  # noqa: S608 (names and ORM SQL)
            f"SELECT p.{qn('page_id')} AS page_id, p.{qn('page_title')} AS title,"
            f" p.{qn('page_path')} AS path, COALESCE(g.views, 0) AS views,"
            " COALESCE(g.uniq, 0) AS uniq, COALESCE(g.prev, 0) AS prev"
            f" FROM ({pages_sql}) p LEFT JOIN ({figures_sql}) g"
            f" ON g.{ct} = p.{qn('page_type')} AND g.{oid} = p.{qn('page_ref')}"
            f") r ORDER BY {order_by(self.ordering)} LIMIT %s OFFSET %s"
        )
        return sql, [*pages_params, *figures_params, limit, offset]
