"""Only the flush writes the view figures: stale saves, fixtures, copies and the admin can't."""

import json

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db.models.signals import pre_save

from djinsight.pipeline import flush
from tests.conftest import beacon, visitor
from tests.testapp.models import Article, FeaturedArticle, Product

pytestmark = pytest.mark.django_db

FIGURES = ("total_views", "unique_views", "first_viewed_at", "last_viewed_at")


def views(client, obj, n: int, first: int = 0) -> None:
    """``n`` views of ``obj`` by distinct visitors, flushed."""
    for i in range(first, first + n):
        assert beacon(client, obj, **visitor(i)).status_code == 204
    flush.process_pageviews()


def figures(obj) -> tuple:
    return type(obj)._base_manager.values_list(*FIGURES).get(pk=obj.pk)


@pytest.mark.parametrize("model", [Article, Product, FeaturedArticle])
def test_stale_save_keeps_the_flushed_figures(client, model):
    """Mixin after models.Model, mixin first (UUID pk), multi-table inheritance."""
    obj = model.objects.create(**({"name": "p"} if model is Product else {"slug": "s"}))
    views(client, obj, 2)
    stale = model.objects.get(pk=obj.pk)
    views(client, obj, 3, first=2)
    before = figures(obj)
    assert before[:2] == (5, 5)
    stale.save()
    assert figures(obj) == before
    assert stale.total_views == 2  # the instance itself is left as it was loaded


def test_deferred_loading_save_does_not_write_figures(client):
    """save() of a .defer()/.only() instance passes every loaded field as update_fields."""
    a = Article.objects.create(slug="a")
    stale = Article.objects.defer("content").get(pk=a.pk)
    views(client, a, 4)
    stale.title = "renamed"
    stale.save()
    a.refresh_from_db()
    assert (a.title, a.total_views, a.unique_views) == ("renamed", 4, 4)


def test_update_fields_naming_a_figure_is_the_way_in(client):
    a = Article.objects.create(slug="a")
    views(client, a, 3)
    stale = Article.objects.get(pk=a.pk)
    stale.total_views, stale.unique_views, stale.title = 40, 30, "t"
    stale.save(update_fields=["total_views", "title"])
    a.refresh_from_db()
    assert (a.total_views, a.unique_views, a.title) == (40, 3, "t")


def test_a_copy_starts_at_zero_and_never_viewed(client):
    a = Article.objects.create(slug="a")
    views(client, a, 3)
    a.refresh_from_db()
    a.pk, a.slug = None, "copy"
    a.save()
    assert figures(a) == (0, 0, None, None)
    assert (a.total_views, a.first_viewed_at) == (0, None)
    created = Article.objects.create(slug="b", total_views=99)
    assert figures(created)[0] == 0


def test_bulk_update_and_queryset_update_of_other_fields_keep_figures(client):
    a = Article.objects.create(slug="a")
    stale = Article.objects.get(pk=a.pk)
    views(client, a, 2)
    stale.title = "bulk"
    Article.objects.bulk_update([stale], ["title"])
    Article.objects.filter(pk=a.pk).update(content="x")
    assert figures(a)[:2] == (2, 2)


def test_fixtures_neither_carry_nor_overwrite_figures(client, tmp_path):
    a = Article.objects.create(slug="a")
    views(client, a, 2)
    dumped = json.loads(serializers.serialize("json", [Article.objects.get(pk=a.pk)]))
    dumped[0]["fields"].update(total_views=1, unique_views=1, first_viewed_at=None)
    fixture = tmp_path / "articles.json"
    fixture.write_text(json.dumps(dumped))
    views(client, a, 1, first=2)
    call_command("loaddata", str(fixture), verbosity=0)
    assert figures(a)[:2] == (3, 3)
    Article.objects.filter(pk=a.pk).delete()
    call_command("loaddata", str(fixture), verbosity=0)  # a new row: never viewed
    assert figures(a) == (0, 0, None, None)


def test_admin_change_form_keeps_figures_flushed_while_it_saves(admin_client, client):
    a = Article.objects.create(slug="a", title="t")
    views(client, a, 2)
    for i in range(2, 5):
        beacon(client, a, **visitor(i))

    def flush_between_load_and_save(sender, instance, **kwargs):
        flush.process_pageviews()  # the admin loaded the row at 2 views

    pre_save.connect(flush_between_load_and_save, sender=Article)
    try:
        response = admin_client.post(
            f"/admin/testapp/article/{a.pk}/change/",
            {"title": "edited", "slug": "a", "content": ""},
        )
    finally:
        pre_save.disconnect(flush_between_load_and_save, sender=Article)
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.title, a.total_views, a.unique_views) == ("edited", 5, 5)
