"""ORM helpers for tracked models: views over a period, popular and trending.

Opt in on a tracked model::

    class Article(models.Model, PageViewStatisticsMixin):
        objects = ViewStatsManager()

    Article.objects.popular(days=7)[:10]          # .views on each
    Article.objects.trending(days=7)[:10]         # .views, .previous_views, .growth
    Article.objects.with_views("month").filter(views__gte=100)

Figures come from correlated subqueries on the daily summaries (one SQL
query for the whole list, using the summaries' (content type, object, date)
index), so they include everything flushed, not views still in Redis.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import CharField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Replace
from django.utils import timezone

from djinsight.models import PageViewSummary
from djinsight.rules import week_start

PERIODS = ("today", "week", "month", "year", "all")


def period_bounds(period: str | int | tuple[date, date]) -> tuple[date | None, date | None]:
    """(first day, last day) of a period: a name in PERIODS, the last N days
    (today included), or a (since, until) pair. ``None`` means unbounded."""
    today = timezone.localdate()
    if isinstance(period, tuple):
        return period
    if isinstance(period, int) and not isinstance(period, bool):
        if period < 1:
            raise ValueError(f"period must be at least 1 day, not {period!r}")
        return today - timedelta(days=period - 1), today
    if period == "today":
        return today, today
    if period == "week":  # calendar week from Monday, as the live figures count it
        return week_start(today), today
    if period == "month":
        return today.replace(day=1), today
    if period == "year":
        return today.replace(month=1, day=1), today
    if period == "all":
        return None, None
    raise ValueError(
        f"period must be one of {PERIODS}, a number of days or (since, until); got {period!r}"
    )


class ViewStatsQuerySet(models.QuerySet):
    def _summaries(self, since: date | None, until: date | None):
        content_type = ContentType.objects.get_for_model(self.model, for_concrete_model=True)
        qs = PageViewSummary.objects.filter(content_type_id=content_type.pk)
        pk = self.model._meta.pk
        as_text = Cast(OuterRef("pk"), output_field=CharField(max_length=64))
        if isinstance(pk, models.UUIDField):
            # stored as "xxxxxxxx-xxxx-…"; the column is hex without dashes on SQLite/MySQL
            qs = qs.annotate(_oid=Replace("object_id", Value("-"), Value(""))).filter(
                _oid=Replace(as_text, Value("-"), Value(""))
            )
        else:
            qs = qs.filter(object_id=as_text)
        if since is not None:
            qs = qs.filter(date__gte=since)
        if until is not None:
            qs = qs.filter(date__lte=until)
        return qs.order_by().values("content_type_id")

    def _sum(self, since, until, column: str):
        sub = self._summaries(since, until).annotate(s=Sum(column)).values("s")
        return Coalesce(Subquery(sub, output_field=models.BigIntegerField()), 0)

    def with_views(self, period: str | int | tuple[date, date] = "week", name: str = "views"):
        """Annotate ``<name>`` (views) and ``<name>_unique`` (unique views) over ``period``."""
        since, until = period_bounds(period)
        return self.annotate(
            **{
                name: self._sum(since, until, "total_views"),
                f"{name}_unique": self._sum(since, until, "unique_views"),
            }
        )

    def popular(self, days: int = 7):
        """Objects viewed in the last ``days`` days, most viewed first (``.views``)."""
        return self.with_views(days).filter(views__gt=0).order_by("-views", "-pk")

    def trending(self, days: int = 7):
        """Objects whose views grew most against the ``days`` before (``.views``,
        ``.previous_views``, ``.growth``); only objects that grew."""
        since, until = period_bounds(days)
        assert since is not None and until is not None  # a number of days is bounded
        before = (since - timedelta(days=days), since - timedelta(days=1))
        return (
            self.with_views((since, until))
            .annotate(previous_views=self._sum(*before, "total_views"))
            .annotate(growth=F("views") - F("previous_views"))
            .filter(growth__gt=0)
            .order_by("-growth", "-views", "-pk")
        )


class ViewStatsManager(models.Manager.from_queryset(ViewStatsQuerySet)):  # type: ignore[misc]
    """``objects = ViewStatsManager()`` gives a tracked model popular(), trending()
    and with_views()."""
