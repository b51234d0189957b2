"""Django admin: read-only logs and summaries, API tokens, the Analytics dashboard,
and ``ViewStatisticsAdminMixin`` for tracked models' own admins."""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from djinsight.models import (
    ApiToken,
    FlushLedger,
    PageViewBotSummary,
    PageViewLog,
    PageViewSummary,
)
from djinsight.reports import charts, dashboard, export, queries
from djinsight.reports.params import PRESET_DAYS, BadParameter, DateRange, parse_choice
from djinsight.rules import can_view_analytics, object_pk
from djinsight.stats.inspection import Capped, capped_views

logger = logging.getLogger("djinsight")
HOURS = [f"{h:02d}" for h in range(24)]


def _capped() -> Capped | None:
    """The capped figure from Redis, or None if Redis does not answer (the dashboard's
    figures come from the database and are shown anyway)."""
    try:
        return capped_views()
    except (redis.RedisError, OSError) as exc:
        logger.warning("djinsight: cannot read the capped figure from Redis: %s", exc)
        return None


class ChangeListGuard(admin.ModelAdmin):
    """A change list whose bad filters are Django's usual "invalid lookup" answer
    (a redirect with ``?e=1``), never a 500: a NUL in any parameter (the database
    refuses it), a date hierarchy at the calendar's edge (9999, or past it)."""

    def get_changelist_instance(self, request):
        if any("\x00" in key + value for key, values in request.GET.lists() for value in values):
            raise IncorrectLookupParameters("a parameter holds a NUL character")
        try:
            return super().get_changelist_instance(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class ReadOnlyAdmin(ChangeListGuard):
    """Figures are written by the flush only: nothing to add, change or delete here."""

    show_full_result_count = False  # no COUNT(*) over the whole log table on each page

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PageViewLog)
class PageViewLogAdmin(ReadOnlyAdmin):
    list_display = (
        "viewed_at",
        "content_type",
        "object_id",
        "path",
        "referrer_domain",
        "browser",
        "os",
        "device",
        "is_unique",
    )
    list_filter = ("is_unique", "device", "browser", "os", "content_type")
    search_fields = ("object_id", "path", "referrer_domain")
    list_select_related = ("content_type",)
    ordering = ("-viewed_at",)

    @property
    def date_hierarchy(self) -> str | None:  # type: ignore[override]  # read like the attribute
        # MySQL/MariaDB without time-zone tables cannot bucket datetimes by local day
        try:
            return "viewed_at" if connection.features.has_zoneinfo_database else None
        except DatabaseError:
            return "viewed_at"


@admin.register(PageViewSummary)
class PageViewSummaryAdmin(ReadOnlyAdmin):
    list_display = ("date", "content_type", "object_id", "total_views", "unique_views")
    list_filter = ("content_type",)
    search_fields = ("object_id",)
    date_hierarchy = "date"
    list_select_related = ("content_type",)
    ordering = ("-date", "-total_views")
    change_list_template = "djinsight/admin/summary_change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("analytics/", view(self.analytics_view), name="djinsight_analytics"),
            path("analytics/export/", view(self.export_view), name="djinsight_analytics_export"),
            *super().get_urls(),
        ]

    def analytics_view(self, request):
        if not can_view_analytics(request.user):
            raise PermissionDenied
        params, error = request.GET, ""
        try:
            rng = DateRange.from_params(params, default_days=30)
            granularity = parse_choice(params, "granularity", queries.GRANULARITIES, "day")
        except BadParameter as exc:
            error, params = exc.message, {}
            rng, granularity = DateRange.last(30), "day"
        data = dashboard.dashboard(rng, granularity)
        previous = queries.series(rng.previous(), granularity)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Analytics"),
            "opts": self.model._meta,
            "error": error,
            "period": params.get("period") or ("custom" if params.get("since") else "30"),
            "presets": PRESET_DAYS,
            "granularities": queries.GRANULARITIES,
            "granularity": granularity,
            "range": rng,
            "previous_range": rng.previous(),
            "d": data,
            "series_chart": charts.line_chart(
                [p.start.isoformat() for p in data.series],
                [
                    (str(_("views")), [p.views for p in data.series]),
                    (str(_("unique visitors")), [p.unique for p in data.series]),
                    (str(_("views, previous period")), [p.views for p in previous]),
                ],
                title=str(_("Views over time")),
            ),
            "types_chart": charts.bar_chart(
                [(t.name, t.views) for t in data.types], title=str(_("Views by content type"))
            ),
            "visitors_chart": charts.bar_chart(
                [
                    (str(_("unique")), data.totals.unique),
                    (str(_("returning")), data.totals.returning),
                ],
                title=str(_("Unique and returning")),
            ),
            "referrers_chart": charts.bar_chart(data.referrers, title=str(_("Referrers"))),
            "paths_chart": charts.bar_chart(data.paths, title=str(_("Paths"))),
            "devices_chart": charts.bar_chart(data.devices, title=str(_("Devices"))),
            "browsers_chart": charts.bar_chart(data.browsers, title=str(_("Browsers"))),
            "oses_chart": charts.bar_chart(data.oses, title=str(_("Operating systems"))),
            "hours_chart": charts.column_chart(HOURS, data.hours, title=str(_("Views by hour"))),
            "export_url": reverse("admin:djinsight_analytics_export"),
            "capped": _capped(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "djinsight/admin/dashboard.html", context)

    def export_view(self, request):
        if not can_view_analytics(request.user):
            raise PermissionDenied
        try:
            rng = DateRange.from_params(request.GET, default_days=30)
            fmt = parse_choice(request.GET, "format", export.FORMATS, "csv")
            kind = parse_choice(request.GET, "kind", export.KINDS, "summaries")
        except BadParameter as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return TemplateResponse(
                request,
                "djinsight/admin/dashboard_error.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Export"),
                    "error": exc.message,
                },
                status=400,
            )
        return export.streaming_response(fmt, kind, rng)


@admin.register(PageViewBotSummary)
class PageViewBotSummaryAdmin(ReadOnlyAdmin):
    """Bots' views per object, day and kind: apart from every human figure."""

    list_display = ("date", "content_type", "object_id", "kind", "views")
    list_filter = ("kind", "content_type")
    search_fields = ("object_id",)
    date_hierarchy = "date"
    list_select_related = ("content_type",)
    ordering = ("-date", "-views")


@admin.register(FlushLedger)
class FlushLedgerAdmin(ReadOnlyAdmin):
    list_display = ("shard", "watermark", "applied_views", "updated_at")
    ordering = ("shard",)


@admin.register(ApiToken)
class ApiTokenAdmin(ChangeListGuard):
    list_display = ("name", "prefix", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("name", "is_active", "prefix", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        raw = ApiToken.generate_raw()
        obj.prefix, obj.key_hash = raw[:12], ApiToken.hash(raw)
        super().save_model(request, obj, form, change)
        # the only time the token is ever shown: only its hash is kept
        self.message_user(
            request,
            _("Copy this token now, it will not be shown again: %(token)s") % {"token": raw},
            messages.WARNING,
        )


class ViewStatisticsAdminMixin:
    """For the ``ModelAdmin`` of a tracked model: a sortable *Views* column and a
    chart of the object's daily views on its change page (one query).

    ``class ArticleAdmin(ViewStatisticsAdminMixin, admin.ModelAdmin): ...``
    """

    views_chart_days = 30
    change_form_template = "djinsight/admin/change_form.html"

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))  # type: ignore[misc]
        if "views_column" not in columns:
            columns.append("views_column")
        return columns

    @admin.display(description=_("Views"), ordering="total_views")
    def views_column(self, obj) -> int:
        return obj.total_views

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "djinsight_chart": self.views_chart(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def views_chart(self, object_id: str):
        from django.contrib.contenttypes.models import ContentType

        model = self.model  # type: ignore[attr-defined]
        today = timezone.localdate()
        rng = DateRange(today - timedelta(days=self.views_chart_days - 1), today)
        pk = object_pk(model, object_id)
        if pk is None:
            return ""
        points = queries.series(rng, "day", ContentType.objects.get_for_model(model), str(pk))
        return charts.line_chart(
            [p.start.isoformat() for p in points],
            [
                (str(_("views")), [p.views for p in points]),
                (str(_("unique visitors")), [p.unique for p in points]),
            ],
            title=str(_("Views in the last %(days)s days") % {"days": self.views_chart_days}),
        )
