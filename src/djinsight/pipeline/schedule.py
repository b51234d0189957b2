"""Periodic tasks for django_celery_beat, created for the user after migrate."""

from __future__ import annotations

import contextlib

from djinsight.conf import settings

TASKS = {
    "djinsight: process page views": ("djinsight.process_pageviews", "interval"),
    "djinsight: generate summaries": ("djinsight.generate_summaries", "hourly"),
    "djinsight: clean up old page views": ("djinsight.cleanup_pageviews", "daily"),
}


def beat_schedule() -> dict:
    """A CELERY_BEAT_SCHEDULE equivalent, for projects without django_celery_beat."""
    from celery.schedules import crontab

    return {
        "djinsight-process-pageviews": {
            "task": "djinsight.process_pageviews",
            "schedule": float(settings.FLUSH_INTERVAL),
        },
        "djinsight-generate-summaries": {
            "task": "djinsight.generate_summaries",
            "schedule": crontab(minute=5),
        },
        "djinsight-cleanup-pageviews": {
            "task": "djinsight.cleanup_pageviews",
            "schedule": crontab(hour=3, minute=30),
        },
    }


def install_periodic_tasks() -> list[str]:
    """Create (or leave as they are) djinsight's django_celery_beat entries."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(
        every=settings.FLUSH_INTERVAL, period=IntervalSchedule.SECONDS
    )
    hourly, _ = CrontabSchedule.objects.get_or_create(
        minute="5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    schedules = {
        "interval": {"interval": every},
        "hourly": {"crontab": hourly},
        "daily": {"crontab": daily},
    }
    created = []
    for name, (task, kind) in TASKS.items():
        _, made = PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, **schedules[kind]}
        )
        if made:
            created.append(name)
    return created


def on_post_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    from django.apps import apps

    if not apps.is_installed("django_celery_beat") or sender.label != "djinsight":
        return
    from django.db import connections
    from django.db.utils import DatabaseError

    tables = connections[using].introspection.table_names()
    if "django_celery_beat_periodictask" not in tables:
        return
    # beat's own migrations not applied yet: the command can do it later
    with contextlib.suppress(DatabaseError):
        install_periodic_tasks()


def on_beat_init(sender, **kwargs) -> None:
    """Give a plain ``celery beat`` (no database scheduler) djinsight's schedule.

    With django_celery_beat's DatabaseScheduler the entries come from the
    database (created after migrate); any other scheduler gets them here unless
    the project already schedules djinsight's tasks itself.
    """
    scheduler = sender.scheduler
    if type(scheduler).__module__.startswith("django_celery_beat"):
        return
    scheduled = {getattr(entry, "task", None) for entry in scheduler.schedule.values()}
    missing = {
        name: entry for name, entry in beat_schedule().items() if entry["task"] not in scheduled
    }
    if missing:
        scheduler.update_from_dict(missing)
