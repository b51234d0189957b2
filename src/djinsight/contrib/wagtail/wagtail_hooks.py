"""Wagtail hooks: the permission on the group page, the report, the panels."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from djinsight.contrib.wagtail import urls
from djinsight.contrib.wagtail.dashboard import MostViewedPagesPanel
from djinsight.rules import ANALYTICS_PERMISSION, can_view_analytics


@hooks.register("register_permissions")
def register_permissions():
    """``djinsight.view_analytics`` on Wagtail's group edit page ("Custom permissions")."""
    app_label, codename = ANALYTICS_PERMISSION.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename)


class AnalyticsMenuItem(MenuItem):
    """Shown only to holders of djinsight.view_analytics."""

    def is_shown(self, request) -> bool:
        return can_view_analytics(request.user)


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("djinsight/", include(urls))]


@hooks.register("register_reports_menu_item")
def register_page_views_report():
    return AnalyticsMenuItem(
        _("Page views"),
        reverse("djinsight_wagtail:page_views"),
        name="page-views",
        icon_name="view",
        order=1250,
    )


@hooks.register("construct_homepage_panels")
def add_most_viewed_pages(request, panels):
    if can_view_analytics(request.user):
        panels.append(MostViewedPagesPanel())
