"""Daily summaries and their rollups: kept current by every flush; rebuildable
from raw logs (summaries) and from the summaries (rollups)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Func, Q, Sum
from django.db.models.functions import ExtractHour, Left, TruncDate, TruncWeek
from django.utils import timezone

from djinsight.models import (
    PageViewDailyTotal,
    PageViewDimensionTotal,
    PageViewLog,
    PageViewSummary,
    PageViewWeeklySummary,
)
from djinsight.pipeline.flush import process_pageviews
from djinsight.rules import week_start


def generate_summaries(days: int | None = None, rebuild: bool = False) -> int:
    """Flush pending views (which updates summaries); with ``rebuild``, recompute
    the last ``days`` days of summaries from raw logs. Returns rows written."""
    flushed = process_pageviews().views
    if not rebuild:
        return flushed
    days = days or 1
    tz = timezone.get_current_timezone()
    since = timezone.localdate() - timedelta(days=days - 1)
    rows = (
        PageViewLog.objects.annotate(day=TruncDate("viewed_at", tzinfo=tz))
        .filter(day__gte=since)
        .values("content_type_id", "object_id", "day")
        .annotate(total=Count("id"), unique=Count("id", filter=Q(is_unique=True)))
    )
    written = 0
    with transaction.atomic():
        PageViewSummary.objects.filter(date__gte=since).delete()
        batch = [
            PageViewSummary(
                content_type_id=row["content_type_id"],
                object_id=row["object_id"],
                date=row["day"],
                total_views=row["total"],
                unique_views=row["unique"],
            )
            for row in rows.iterator()
        ]
        PageViewSummary.objects.bulk_create(batch, batch_size=1000)
        written = len(batch)
        rebuild_rollups(since)
        rebuild_dimension_totals(PageViewLog, PageViewDimensionTotal, since)
    return written


def rebuild_daily_totals(since=None) -> int:
    """Recompute the per-type daily totals from the daily summaries.

    All days, or the days from ``since`` on.
    """
    summaries = PageViewSummary.objects.all()
    totals = PageViewDailyTotal.objects.all()
    if since is not None:
        summaries, totals = summaries.filter(date__gte=since), totals.filter(date__gte=since)
    rows = summaries.values("content_type_id", "date").annotate(
        views=Sum("total_views"), unique=Sum("unique_views")
    )
    return _replace(totals, rows, lambda row: {"date": row["date"]})


def rebuild_weekly_summaries(since=None) -> int:
    """Recompute the per-object weekly summaries from the daily summaries (all
    weeks, or whole weeks from the Monday of ``since``'s week)."""
    summaries = PageViewSummary.objects.all()
    weeks = PageViewWeeklySummary.objects.all()
    if since is not None:
        monday = week_start(since)
        summaries, weeks = summaries.filter(date__gte=monday), weeks.filter(week__gte=monday)
    rows = (
        summaries.annotate(monday=TruncWeek("date"))
        .values("content_type_id", "object_id", "monday")
        .annotate(views=Sum("total_views"), unique=Sum("unique_views"))
    )
    return _replace(weeks, rows, lambda row: {"object_id": row["object_id"], "week": row["monday"]})


def _replace(old, rows, keys) -> int:
    """Delete the rollup rows ``old`` and create one per grouped summary row, atomically."""
    model = old.model
    with transaction.atomic():
        old.delete()
        created = model.objects.bulk_create(
            (
                model(
                    content_type_id=row["content_type_id"],
                    total_views=row["views"],
                    unique_views=row["unique"],
                    **keys(row),
                )
                for row in rows.order_by().iterator()
            ),
            batch_size=1000,
        )
    return len(created)


def rebuild_rollups(since=None) -> int:
    """Recompute what the flush derives from the daily summaries: the per-type
    daily totals and the per-object weekly summaries. Returns rows written."""
    with transaction.atomic():
        return rebuild_daily_totals(since) + rebuild_weekly_summaries(since)


def rebuild_dimension_totals(log_model, total_model, since=None, using: str = "default") -> int:
    """Recompute the daily dimension totals from raw logs (all days, or from ``since``).

    Takes the models so that migration 0005 can fill the table with its
    historical models.
    """
    tz = timezone.get_current_timezone()
    # MySQL without time-zone tables gives NULL days: those logs are left out, not fatal.
    logs = (
        log_model.objects.using(using)
        .annotate(day=TruncDate("viewed_at", tzinfo=tz))
        .filter(day__isnull=False)
    )
    totals = total_model.objects.using(using)
    if since is not None:
        logs, totals = logs.filter(day__gte=since), totals.filter(date__gte=since)
    length = total_model._meta.get_field("value").max_length
    values: dict[str, Func] = {
        name: Left(name, length) for name in PageViewDimensionTotal.LOG_DIMENSIONS
    }
    values["hour"] = ExtractHour("viewed_at", tzinfo=tz)  # an integer, written as "00"–"23"
    with transaction.atomic(using=using):
        totals.delete()
        created = 0
        for dimension, value in values.items():
            rows = logs.annotate(value=value)
            if dimension != "hour":
                rows = rows.exclude(value="")
            rows = rows.values("day", "value").annotate(views=Count("id")).order_by()
            created += len(
                total_model.objects.using(using).bulk_create(
                    [
                        total_model(
                            dimension=dimension,
                            date=r["day"],
                            value=f"{r['value']:02d}" if dimension == "hour" else r["value"],
                            views=r["views"],
                        )
                        for r in rows.iterator()
                    ],
                    batch_size=1000,
                )
            )
    return created
