"""Previews and drafts are never counted; DJINSIGHT_SKIP_EDITORS leaves editors out."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils
from wagtail.test.utils.form_data import querydict_from_html

from djinsight.tracking.references import sign
from tests.contrib.wagtail.conftest import add_blog_pages

pytestmark = pytest.mark.django_db

TRACKER = "djinsight/tracker.min.js"


@pytest.fixture
def page(home):
    (page,) = add_blog_pages(home, 1)
    return page


@pytest.fixture
def admin(client):
    user = WagtailTestUtils.create_superuser("admin", password="pw")
    client.force_login(user)
    return user


def test_the_live_page_carries_the_tracker(client, page):
    html = client.get(page.url).content.decode()
    assert TRACKER in html and sign(page) in html


def test_the_preview_panel_renders_no_tracker(client, admin, page):
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    data = querydict_from_html(client.get(edit).content.decode(), form_id="page-edit-form")
    data["title"] = "Edited in the preview"
    preview = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
    assert client.post(preview, data).json() == {"is_valid": True, "is_available": True}
    html = client.get(preview).content.decode()
    assert "<h1>Edited in the preview</h1>" in html
    # no tracker, so no view and no admin URL can reach the log from here
    assert TRACKER not in html and sign(page) not in html


def test_view_draft_renders_no_tracker(client, admin, page):
    page.title = "A draft"
    page.save_revision()
    html = client.get(reverse("wagtailadmin_pages:view_draft", args=[page.pk])).content.decode()
    assert "<h1>A draft</h1>" in html
    assert TRACKER not in html


@pytest.mark.parametrize(
    ("who", "skip_editors", "tracked"),
    [
        ("anonymous", True, True),
        ("a Wagtail editor", True, False),
        ("a Wagtail editor", False, True),
        ("staff", True, False),
        ("a logged-in visitor", True, True),
    ],
)
def test_skip_editors_leaves_out_who_can_reach_an_admin(
    client, page, editor, who, skip_editors, tracked
):
    if who == "a Wagtail editor":
        client.force_login(editor)  # not staff: Wagtail's access_admin through a group
    elif who == "staff":
        client.force_login(WagtailTestUtils.create_user("staff", password="pw", is_staff=True))
    elif who == "a logged-in visitor":
        client.force_login(WagtailTestUtils.create_user("reader", password="pw"))
    with override_settings(DJINSIGHT_SKIP_EDITORS=skip_editors):
        html = client.get(page.url).content.decode()
    assert "<h1>Post 0</h1>" in html
    assert (TRACKER in html) is tracked
