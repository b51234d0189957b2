"""Management commands: thin, clear output, clear errors for bad flags."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone

from djinsight.models import (
    PageViewDailyTotal,
    PageViewLog,
    PageViewSummary,
    PageViewWeeklySummary,
)
from djinsight.pipeline.rollups import rebuild_weekly_summaries
from tests.conftest import beacon, visitor
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_process_pageviews_flushes_with_batch_size(client):
    article = Article.objects.create(title="A", slug="a")
    for k in range(5):
        beacon(client, article, **visitor(k))
    output = run("process_pageviews", "--batch-size", "2")
    assert "Flushed 5 views in 3 batches" in output
    article.refresh_from_db()
    assert article.total_views == 5


@pytest.mark.parametrize("bad", ["0", "-3", "ten"])
def test_process_pageviews_rejects_bad_batch_size(bad):
    with pytest.raises(CommandError, match="positive whole number"):
        call_command("process_pageviews", "--batch-size", bad)


def test_cleanup_deletes_only_old_logs():
    ct = ContentType.objects.get_for_model(Article)
    now = timezone.now()
    for age in (1, 29, 31, 400):
        PageViewLog.objects.create(
            content_type=ct, object_id="1", viewed_at=now - timedelta(days=age)
        )
    PageViewSummary.objects.create(
        content_type=ct, object_id="1", date=(now - timedelta(days=400)).date(), total_views=1
    )
    output = run("cleanup_pageviews", "--days", "30", "--yes")
    assert "Deleted 2 page-view logs older than 30 days" in output
    assert PageViewLog.objects.count() == 2
    assert PageViewSummary.objects.count() == 1  # summaries stay


def test_cleanup_without_yes_and_no_terminal_refuses():
    with pytest.raises(CommandError, match="--yes"):
        call_command("cleanup_pageviews", "--days", "30")


def test_cleanup_rejects_bad_days():
    with pytest.raises(CommandError):
        call_command("cleanup_pageviews", "--days", "soon", "--yes")


def test_generate_summaries_flushes_and_rebuilds_from_logs(client):
    article = Article.objects.create(title="A", slug="a")
    for k in range(3):
        beacon(client, article, **visitor(k))
    assert "3 views flushed" in run("generate_summaries")
    PageViewSummary.objects.update(total_views=999)
    PageViewDailyTotal.objects.update(total_views=999)
    PageViewWeeklySummary.objects.update(total_views=999)
    assert "Rebuilt 1 daily summaries" in run("generate_summaries", "--rebuild", "--days", "2")
    summary = PageViewSummary.objects.get()
    assert (summary.total_views, summary.unique_views) == (3, 3)
    day_total = PageViewDailyTotal.objects.get()
    assert (day_total.total_views, day_total.unique_views) == (3, 3)
    week = PageViewWeeklySummary.objects.get()
    assert (week.week, week.total_views, week.unique_views) == (
        PageViewWeeklySummary.week_of(timezone.localdate()),
        3,
        3,
    )


def test_weekly_rebuild_from_mid_week_recomputes_whole_weeks_from_that_monday():
    ct = ContentType.objects.get_for_model(Article)
    monday = PageViewWeeklySummary.week_of(timezone.localdate()) - timedelta(weeks=3)
    for n in range(21):  # three weeks, 1 + n views on day n
        PageViewSummary.objects.create(
            content_type=ct, object_id="7", date=monday + timedelta(days=n), total_views=1 + n
        )
    assert rebuild_weekly_summaries() == 3
    PageViewWeeklySummary.objects.update(total_views=999)
    assert rebuild_weekly_summaries(since=monday + timedelta(days=10)) == 2  # a Thursday
    weeks = dict(PageViewWeeklySummary.objects.values_list("week", "total_views"))
    assert weeks == {
        monday: 999,  # before the rebuilt weeks: left alone
        monday + timedelta(weeks=1): sum(range(8, 15)),
        monday + timedelta(weeks=2): sum(range(15, 22)),
    }


def test_analyze_redis_lists_objects_with_names_and_live_views(client):
    article = Article.objects.create(title="Article Title", slug="a")
    product = Product.objects.create(name="Lamp")
    for k in range(3):
        beacon(client, article, **visitor(k))
    beacon(client, product, **visitor(1))
    output = run("analyze_redis")
    assert f'Object ID {article.pk}: testapp.article - "Article Title" (3 total views' in output
    assert 'testapp.product - "Product: Lamp" (1 total views' in output
    assert "Buffered views waiting for a flush: 4" in output


def test_schedule_command_creates_periodic_tasks_once():
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name__startswith="djinsight").delete()
    assert "3 periodic tasks created" in run("djinsight_schedule")
    assert "0 periodic tasks created" in run("djinsight_schedule")
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "djinsight.process_pageviews",
        "djinsight.generate_summaries",
        "djinsight.cleanup_pageviews",
    } <= tasks


def test_periodic_tasks_created_by_migrate():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="djinsight.process_pageviews").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["process_pageviews", "--batch-size", "abc"],
        ["process_pageviews", "--batch-size", "0"],
        ["cleanup_pageviews", "--days", "-1", "--yes"],
        ["analyze_redis", "--limit", "x"],
    ],
)
def test_bad_flags_on_the_command_line_give_usage_error_not_traceback(argv):
    import subprocess
    import sys

    from tests.conftest import ROOT, child_env

    result = subprocess.run(
        [sys.executable, "-m", "django", *argv, "--settings=tests.settings"],
        env=child_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "expected a positive whole number" in result.stderr
    assert "Traceback" not in result.stderr
