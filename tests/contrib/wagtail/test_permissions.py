"""djinsight.view_analytics, the Wagtail way: on the group page, and enough on its own."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils
from wagtail.test.utils.form_data import querydict_from_html

pytestmark = pytest.mark.django_db


def test_the_permission_is_offered_on_wagtails_group_page(client, editors):
    client.force_login(WagtailTestUtils.create_superuser("admin", password="pw"))
    response = client.get(reverse("wagtailusers_groups:edit", args=[editors.pk]))
    assert response.status_code == 200
    permission = Permission.objects.get(
        content_type__app_label="djinsight", codename="view_analytics"
    )
    soup = WagtailTestUtils.get_soup(response.content)
    box = soup.find("input", {"name": "permissions", "value": str(permission.pk)})
    assert box is not None
    assert "Can view analytics" in box.find_parent("label").get_text()


def test_ticking_it_on_the_group_page_grants_it(client, editors):
    permission = Permission.objects.get(
        content_type__app_label="djinsight", codename="view_analytics"
    )
    client.force_login(WagtailTestUtils.create_superuser("admin", password="pw"))
    edit = reverse("wagtailusers_groups:edit", args=[editors.pk])

    html = client.get(edit).content.decode()
    forms = WagtailTestUtils.get_soup(html).find_all("form")
    index = next(i for i, f in enumerate(forms) if f.find("input", {"name": "permissions"}))
    data = querydict_from_html(html, form_index=index)
    data.setlist("permissions", [*data.getlist("permissions"), str(permission.pk)])
    response = client.post(edit, data)
    assert response.status_code == 302, response.content[:2000]
    assert editors.permissions.filter(pk=permission.pk).exists()
