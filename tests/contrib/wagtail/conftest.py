"""Editors, pages and views for the Wagtail admin tests.

Editors are who Wagtail sites have: not staff, in a group with access to the
Wagtail admin and to the page tree; ``analyst`` also holds djinsight.view_analytics.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from wagtail.models import GroupPagePermission, Page
from wagtail.test.utils import WagtailTestUtils

from djinsight.pipeline import flush
from tests.conftest import beacon, visitor
from tests.testapp.models import BlogPage

ADMIN = "/cms/"


@pytest.fixture
def editors(db) -> Group:
    group = Group.objects.create(name="Writers")  # Wagtail migrations made "Editors"
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    root = Page.get_first_root_node()
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group, page=root, permission=Permission.objects.get(codename=codename)
        )
    return group


def make_editor(group: Group, name: str, *, analytics: bool):
    user = WagtailTestUtils.create_user(name, password="pw")  # is_staff stays False
    user.groups.add(group)
    if analytics:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="djinsight", codename="view_analytics")
        )
    return type(user).objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture
def analyst(editors):
    """A Wagtail editor (not staff) holding djinsight.view_analytics."""
    return make_editor(editors, "analyst", analytics=True)


@pytest.fixture
def editor(editors):
    """A Wagtail editor (not staff) without the analytics permission."""
    return make_editor(editors, "editor", analytics=False)


@pytest.fixture
def home(db) -> Page:
    """The page Wagtail's migrations create under the root, served at /."""
    return Page.objects.get(depth=2)


def add_blog_pages(parent: Page, count: int, prefix: str = "post") -> list[BlogPage]:
    return [
        parent.add_child(instance=BlogPage(title=f"{prefix.title()} {i}", slug=f"{prefix}-{i}"))
        for i in range(count)
    ]


def views(client, obj, n: int, first: int = 0) -> None:
    """``n`` views of ``obj`` by distinct visitors (recorded in Redis, not flushed)."""
    for i in range(first, first + n):
        assert beacon(client, obj, **visitor(i)).status_code == 204


def flushed_views(client, obj, n: int, first: int = 0) -> None:
    views(client, obj, n, first)
    flush.process_pageviews()
