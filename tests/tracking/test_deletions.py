"""Deleted objects: the beacon refuses their views (410) and Redis forgets them."""

import logging

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.test import override_settings

from djinsight.pipeline import flush
from djinsight.store.client import outage, reset_clients
from djinsight.store.keys import TOMBSTONE_SECONDS, Keys, ObjectName, shard_of
from djinsight.tracking.references import sign
from tests.conftest import beacon, visitor
from tests.testapp.models import Article, BlogPage, Untracked

pytestmark = pytest.mark.django_db


def traces(redis_client, name: ObjectName) -> dict:
    """All Redis holds about ``name``: its keys (without the prefix), its place in the
    shard's objects, its pending fields and its stream entries."""
    prefix = settings.DJINSIGHT_REDIS_KEY_PREFIX
    found = (key.decode() for key in redis_client.scan_iter(match=prefix + "*", count=1000))
    keys, mine = Keys(shard_of(name)), str(name).encode()
    return {
        "keys": sorted(key[len(prefix) :] for key in found if key.endswith(str(name))),
        "in objects": redis_client.zscore(keys.objects, str(name)) is not None,
        "pending": [f for f in redis_client.hkeys(keys.pending) if f.startswith(mine)],
        "entries": [e for _id, e in redis_client.xrange(keys.stream) if e[b"o"] == mine],
    }


def live_keys(name: ObjectName) -> list[str]:
    return [f"counter:{name}", f"stats:{name}", f"unique_counter:{name}"]


def test_receivers_are_connected_to_tracked_models_only():
    # an untracked model keeps Django's fast delete (no rows loaded to signal each one)
    assert post_delete.has_listeners(Article) and post_save.has_listeners(Article)
    assert post_delete.has_listeners(BlogPage)
    assert not post_delete.has_listeners(Untracked) and not post_save.has_listeners(Untracked)


def test_a_deleted_objects_beacon_answers_410_and_writes_no_key(
    client, redis_client, django_capture_on_commit_callbacks
):
    article = Article.objects.create(title="A", slug="a")
    name = ObjectName.of(article)
    beacon(client, article, **visitor(1))
    flush.process_pageviews()  # seeds its live counters
    beacon(client, article, **visitor(2))
    seen = traces(redis_client, name)
    assert set(live_keys(name)) <= set(seen["keys"]) and seen["in objects"]
    ref = sign(article)
    with django_capture_on_commit_callbacks(execute=True):
        article.delete()
    before = traces(redis_client, name)
    assert [k for k in before["keys"] if not k.startswith("session:")] == [f"deleted:{name}"]
    assert not before["in objects"]
    tombstone = Keys(shard_of(name)).deleted(name)
    assert TOMBSTONE_SECONDS - 60 < redis_client.ttl(tombstone) <= TOMBSTONE_SECONDS

    response = beacon(client, ref=ref, **visitor(3))

    assert response.status_code == 410
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "object_deleted"
    assert traces(redis_client, name) == before  # not even visitor 3's unique mark


def test_a_rolled_back_delete_leaves_no_tombstone(
    client, redis_client, django_capture_on_commit_callbacks
):
    article = Article.objects.create(title="A", slug="a")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        article.delete()
        raise RuntimeError("changed my mind")
    assert Article.objects.filter(slug="a").exists()
    assert beacon(client, article, **visitor(1)).status_code == 204
    name = ObjectName.of(article)
    assert f"deleted:{name}" not in traces(redis_client, name)["keys"]


def test_an_object_created_again_with_its_pk_is_counted_again(
    client, redis_client, django_capture_on_commit_callbacks
):
    article = Article.objects.create(title="A", slug="a")
    pk, name, ref = article.pk, ObjectName.of(article), sign(article)
    with django_capture_on_commit_callbacks(execute=True):
        article.delete()
    assert beacon(client, ref=ref, **visitor(1)).status_code == 410
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.create(pk=pk, title="A again", slug="a")
    assert f"deleted:{name}" not in traces(redis_client, name)["keys"]
    assert beacon(client, ref=ref, **visitor(1)).status_code == 204
    flush.process_pageviews()
    assert Article.objects.get(pk=pk).total_views == 1


def test_a_deleted_wagtail_page_is_refused_too(client, django_capture_on_commit_callbacks):
    from wagtail.models import Page

    page = Page.get_first_root_node().add_child(instance=BlogPage(title="Hello", slug="hello"))
    ref = sign(page)
    assert beacon(client, ref=ref, **visitor(1)).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        Page.objects.get(pk=page.pk).delete()  # through the base class: cascades to BlogPage
    assert beacon(client, ref=ref, **visitor(2)).status_code == 410


def test_a_delete_with_redis_down_still_deletes_and_logs_once(
    client, caplog, django_capture_on_commit_callbacks
):
    outage.succeeded()
    articles = [Article.objects.create(title=f"A{i}", slug=f"a{i}") for i in range(3)]
    try:
        with (
            override_settings(DJINSIGHT_REDIS_URL="redis://127.0.0.1:1/0"),
            caplog.at_level(logging.ERROR, "djinsight"),
        ):
            reset_clients()
            with django_capture_on_commit_callbacks(execute=True):
                for article in articles:
                    article.delete()
                Article.objects.create(title="B", slug="b")
    finally:
        outage.succeeded()
        reset_clients()
    assert list(Article.objects.values_list("slug", flat=True)) == ["b"]
    assert len([r for r in caplog.records if "Redis unavailable" in r.getMessage()]) == 1
