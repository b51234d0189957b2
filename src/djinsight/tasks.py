"""Celery tasks: thin wrappers over the functions the management commands call.

The package never imports your Celery app; ``@shared_task`` binds to it.
"""

from __future__ import annotations

try:
    from celery import shared_task
except ImportError as exc:  # pragma: no cover - celery is a dependency
    from djinsight.exceptions import ImproperlyInstalled

    raise ImproperlyInstalled(
        "djinsight's Celery tasks need Celery: pip install 'djinsight[celery]'"
    ) from exc


@shared_task(name="djinsight.process_pageviews", ignore_result=True)
def process_pageviews(batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Flush buffered views from Redis into the database."""
    from djinsight.pipeline.flush import process_pageviews as run

    return run(batch_size=batch_size, max_batches=max_batches).views


@shared_task(name="djinsight.generate_summaries", ignore_result=True)
def generate_summaries(days: int | None = None) -> int:
    """Bring daily summaries up to date (they are written by every flush)."""
    from djinsight.pipeline.rollups import generate_summaries as run

    return run(days=days)


@shared_task(name="djinsight.cleanup_pageviews", ignore_result=True)
def cleanup_pageviews(days: int | None = None) -> int:
    """Delete raw view logs older than DJINSIGHT_CLEANUP_DAYS."""
    from djinsight.pipeline.cleanup import cleanup_pageviews as run

    return run(days=days)
