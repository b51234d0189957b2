"""Daily summaries: kept current by every flush; rebuildable from raw logs."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .flush import process_pageviews
from .models import PageViewDailyTotal, PageViewLog, PageViewSummary


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
        rebuild_daily_totals(since)
    return written


def rebuild_daily_totals(since=None) -> int:
    """Recompute the per-type daily totals from the daily summaries (all days, or from ``since``)."""
    summaries = PageViewSummary.objects.all()
    totals = PageViewDailyTotal.objects.all()
    if since is not None:
        summaries, totals = summaries.filter(date__gte=since), totals.filter(date__gte=since)
    rows = summaries.values("content_type_id", "date").annotate(
        views=Sum("total_views"), unique=Sum("unique_views")
    )
    with transaction.atomic():
        totals.delete()
        created = PageViewDailyTotal.objects.bulk_create(
            [
                PageViewDailyTotal(
                    content_type_id=row["content_type_id"],
                    date=row["date"],
                    total_views=row["views"],
                    unique_views=row["unique"],
                )
                for row in rows.order_by().iterator()
            ],
            batch_size=1000,
        )
    return len(created)
