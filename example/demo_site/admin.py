"""Shared admin options for the demo's tracked models: the mixin's columns, read-only."""

from django.contrib import admin

from djinsight.models import STAT_FIELDS


class TrackedAdmin(admin.ModelAdmin):
    stat_columns = ("total_views", "unique_views", "last_viewed_at")
    readonly_fields = STAT_FIELDS
    ordering = ("-total_views",)
    list_per_page = 50
