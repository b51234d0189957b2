"""Wagtail's revisions, copies, aliases, moves and scheduled publishing keep the flushed figures."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Page, Revision

from tests.test_guard import figures, views
from tests.testapp.models import BlogPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def root():
    return Page.get_first_root_node()


@pytest.fixture
def page(root):
    return root.add_child(instance=BlogPage(title="Hello", slug="hello"))


def test_revisions_do_not_store_the_figures(client, page):
    views(client, page, 2)
    page.refresh_from_db()
    revision = page.save_revision()
    assert "total_views" not in revision.content
    assert "first_viewed_at" not in revision.content


def test_publishing_a_draft_saved_before_views_keeps_them(client, page):
    views(client, page, 4)
    page.refresh_from_db()
    page.introduction = "draft"
    draft = page.save_revision()
    views(client, page, 3, first=4)
    draft.publish()
    page.refresh_from_db()
    assert (page.introduction, page.total_views, page.unique_views) == ("draft", 7, 7)
    assert page.first_viewed_at is not None


def test_reverting_to_the_first_revision_keeps_the_figures(client, page):
    first = page.save_revision()
    first.publish()
    views(client, page, 5)
    before = figures(page)
    reverted = Revision.objects.get(pk=first.pk).as_object()
    assert reverted.total_views == 5  # shows the live figures, not the revision's
    reverted.save_revision().publish()
    assert figures(page) == before


def test_revisions_stored_with_old_figures_restore_none_of_them(client, page):
    """Revisions written before the guard hold figures in their JSON."""
    old = page.save_revision()
    Revision.objects.filter(pk=old.pk).update(
        content={**old.content, "total_views": 1, "unique_views": 1, "first_viewed_at": None}
    )
    views(client, page, 3)
    Revision.objects.get(pk=old.pk).publish()
    assert figures(page)[:2] == (3, 3)
    assert figures(page)[2] is not None


def test_scheduled_publish_keeps_the_figures(client, page):
    page.go_live_at = timezone.now() + timedelta(hours=1)
    page.introduction = "scheduled"
    page.save_revision().publish()  # approved, waits for go_live_at
    views(client, page, 6)
    Revision.objects.filter(object_id=str(page.pk)).update(
        approved_go_live_at=timezone.now() - timedelta(minutes=1)
    )
    call_command("publish_scheduled", verbosity=0)
    page.refresh_from_db()
    assert (page.introduction, page.total_views, page.unique_views) == ("scheduled", 6, 6)


def test_a_copied_page_starts_at_zero(client, root, page):
    views(client, page, 3)
    page.refresh_from_db()
    copy = page.copy(to=root, update_attrs={"slug": "hello-copy", "title": "Copy"})
    assert figures(copy) == (0, 0, None, None)
    assert figures(page)[:2] == (3, 3)
    copy.get_latest_revision().publish()
    assert figures(copy) == (0, 0, None, None)


def test_alias_sync_keeps_each_pages_own_figures(client, root, page):
    alias = page.create_alias(parent=root, update_slug="hello-alias")
    alias = BlogPage.objects.get(pk=alias.pk)
    assert figures(alias) == (0, 0, None, None)
    views(client, page, 4)
    views(client, alias, 2, first=10)
    page.refresh_from_db()
    page.introduction = "synced"
    page.save_revision().publish()  # updates the alias from the source
    alias.refresh_from_db()
    assert alias.introduction == "synced"
    assert figures(page)[:2] == (4, 4)
    assert figures(alias)[:2] == (2, 2)


def test_moving_a_stale_page_keeps_the_figures(client, root, page):
    section = root.add_child(instance=BlogPage(title="Section", slug="section"))
    stale = BlogPage.objects.get(pk=page.pk)
    stale.move(section, pos="last-child")
    views(client, page, 3)
    stale.title = "moved"
    stale.save()
    moved = BlogPage.objects.get(pk=page.pk)
    assert (moved.get_parent().pk, moved.title) == (section.pk, "moved")
    assert figures(page)[:2] == (3, 3)
