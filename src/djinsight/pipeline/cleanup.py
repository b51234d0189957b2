"""Retention: raw view logs older than DJINSIGHT_CLEANUP_DAYS are deleted; summaries stay."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from djinsight.conf import settings
from djinsight.models import PageViewLog


def cleanup_pageviews(days: int | None = None, chunk: int = 10_000, progress=None) -> int:
    """Delete raw logs older than ``days`` (DJINSIGHT_CLEANUP_DAYS) in bounded batches."""
    days = settings.CLEANUP_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            PageViewLog.objects.filter(viewed_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            return deleted
        deleted += PageViewLog.objects.filter(pk__in=ids).delete()[0]
        if progress:
            progress(deleted)
