"""Wagtail hooks: the permission on the group page, the report, the panels."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from wagtail import hooks

from djinsight.rules import ANALYTICS_PERMISSION


@hooks.register("register_permissions")
def register_permissions():
    """``djinsight.view_analytics`` on Wagtail's group edit page ("Custom permissions")."""
    app_label, codename = ANALYTICS_PERMISSION.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename)
