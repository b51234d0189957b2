"""I11: stale saves racing the flush never change a figure the views did not change."""

import random
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.test import Client
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page

from djinsight.models import PageViewLog, PageViewSummary
from djinsight.pipeline import flush
from djinsight.stats.figures import get_stats
from tests.conftest import FIGURES, beacon, spawn, visitor
from tests.pipeline.test_crash import FLUSHER, wait_ready
from tests.testapp.models import Article, BlogPage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Loads every object once, then saves those stale copies in a loop, three ways,
# until the stop file exists and it has saved each way at least once; prints
# how many saves of each kind it made.
SAVER = """
import os, sys, django
django.setup()
from django.db import OperationalError
from django.test import Client
from django.test.utils import setup_test_environment
from wagtail.models import Revision
from tests.testapp.models import Article, BlogPage
articles = list(Article.objects.order_by("pk"))
page = BlogPage.objects.get()
old_revision = Revision.objects.filter(object_id=str(page.pk)).earliest("created_at")
setup_test_environment()  # the test client's host, "testserver", is allowed
admin = Client()
admin.login(username="racer", password="racer")
done = {"save": 0, "admin": 0, "publish": 0}
print("ready", flush=True)
while not (os.path.exists(os.environ["STOP_FILE"]) and all(done.values())):
    try:
        for a in articles:
            a.title = f"stale {done['save']}"
            a.save()
            done["save"] += 1
        a = articles[done["admin"] % len(articles)]
        data = {"title": "admin", "slug": a.slug, "content": ""}
        response = admin.post(f"/admin/testapp/article/{a.pk}/change/", data)
        assert response.status_code == 302, response.status_code
        done["admin"] += 1
        old_revision.publish()
        done["publish"] += 1
    except OperationalError as exc:  # SQLite: database is locked by a flusher
        print("saver retry:", exc, file=sys.stderr, flush=True)
print(done["save"], done["admin"], done["publish"], flush=True)
"""


def test_stale_saves_admin_and_old_revisions_racing_flushes_change_no_figure(
    redis_client, tmp_path
):
    random.seed(11)
    get_user_model().objects.create_superuser("racer", "racer@example.com", "racer")
    articles = [Article.objects.create(title=f"R{i}", slug=f"r{i}") for i in range(3)]
    page = wagtail_root().add_child(instance=BlogPage(title="Race", slug="race"))
    page.save_revision().publish()
    client = Client()
    for article in articles:  # every stale copy starts with views it will lag behind
        beacon(client, article, **visitor(0))
    flusher = spawn(FLUSHER, BATCH="5")
    stop_file = tmp_path / "stop"
    saver = spawn(SAVER, STOP_FILE=str(stop_file))
    wait_ready(flusher)
    wait_ready(saver)
    items = [*articles, page]
    sent = {("a", a.pk): 1 for a in articles} | {("p", page.pk): 0}
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        item = random.choice(items)
        if beacon(client, item, **visitor(random.randrange(30))).status_code == 204:
            sent[("p" if item is page else "a", item.pk)] += 1
    saves = stop(saver, stop_file)
    flusher.kill()
    flusher.wait(10)
    assert flush.process_pageviews().skipped_shards == []
    fresh = [*Article.objects.filter(pk__in=[a.pk for a in articles]), BlogPage.objects.get()]
    stored = {("p" if isinstance(o, BlogPage) else "a", o.pk): o.total_views for o in fresh}
    assert stored == sent
    total = sum(sent.values())
    assert PageViewSummary.objects.aggregate(n=Sum("total_views"))["n"] == total
    assert PageViewLog.objects.count() == total
    unique = {o.pk: o.unique_views for o in fresh}
    assert {str(o.pk): o.unique_views for o in fresh} == {
        name.pk: s.unique_views for name, s in get_stats(fresh).items()
    }
    assert all(unique.values())
    assert saves["save"] > 0 and saves["admin"] > 0 and saves["publish"] > 0
    FIGURES.append(
        f"stale-save race: {sum(sent.values())} views answered 204 = stored; "
        f"{saves['save']} stale save(), {saves['admin']} admin saves, "
        f"{saves['publish']} old-revision publishes in 8 s"
    )


def wagtail_root() -> Page:
    """Wagtail's root page; made again when an earlier transactional test emptied the tables."""
    root = Page.get_first_root_node()
    if root is None:
        language = get_supported_content_language_variant(settings.LANGUAGE_CODE)
        Locale.objects.get_or_create(language_code=language)
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    return root


def stop(saver, stop_file) -> dict:
    stop_file.touch()
    out, err = saver.communicate(timeout=60)
    assert saver.returncode == 0, err[-2000:]
    counts = [int(n) for n in out.split()[-3:]]
    return dict(zip(("save", "admin", "publish"), counts, strict=True))
