"""The Celery tasks, run by a real worker."""

import subprocess
import sys
import time

import pytest

from djinsight import tasks
from tests.celery_app import app
from tests.conftest import ROOT, beacon, child_env, visitor
from tests.testapp.models import Article

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.celery]


@pytest.fixture
def worker():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.celery_app",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        env=child_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_runs_flush_task_and_counts_each_view_once(client, worker):
    article = Article.objects.create(title="A", slug="a")
    for k in range(7):
        beacon(client, article, **visitor(k))
    with app.connection_for_write() as conn:
        tasks.process_pageviews.apply_async(connection=conn)
        tasks.process_pageviews.apply_async(connection=conn)  # a retry or duplicate is harmless

    def flushed():
        article.refresh_from_db()
        return article.total_views == 7

    assert wait_for(flushed), f"worker did not flush: {worker.poll()}"
    time.sleep(1)
    article.refresh_from_db()
    assert (article.total_views, article.unique_views) == (7, 7)


def test_cleanup_task_registered_with_stable_names():
    names = set(app.tasks)
    assert {
        "djinsight.process_pageviews",
        "djinsight.generate_summaries",
        "djinsight.cleanup_pageviews",
    } <= names


def test_plain_celery_beat_schedules_the_flush(client, worker, tmp_path):
    """`celery -A proj beat` without the database scheduler still runs djinsight's flush."""
    article = Article.objects.create(title="B", slug="b")
    for k in range(3):
        beacon(client, article, **visitor(k))
    env = child_env()
    env["DJINSIGHT_TEST_FLUSH_INTERVAL"] = "1"
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.celery_app",
            "beat",
            "-l",
            "warning",
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def flushed():
            article.refresh_from_db()
            return article.total_views == 3

        assert wait_for(flushed, timeout=90), "beat never scheduled the flush"
    finally:
        beat.terminate()
        beat.wait(timeout=20)
