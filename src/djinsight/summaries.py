"""Daily summaries: kept current by every flush; rebuildable from raw logs."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from .flush import process_pageviews
from .models import PageViewLog, PageViewSummary


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
    return written
