"""The "Page views" report under Wagtail's Reports menu.

A ``ReportView`` like Wagtail's own (``wagtail/admin/views/reports/``): a
filterset (period, custom range, page type, section), sortable columns,
pagination and the built-in CSV/XLSX export. The figures are read by
``pages.PageFigures``: a page of the report costs the same few queries
whatever the number of pages listed.
"""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import ContentTypeFilter, DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, NumberColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets import AdminPageChooser
from wagtail.coreutils import get_content_type_label
from wagtail.models import Page

from djinsight.contrib.wagtail.pages import PageFigures, tracked_page_types, tracked_pages
from djinsight.exceptions import BadParameter
from djinsight.reports.params import PRESET_DAYS, DateRange
from djinsight.rules import can_view_analytics

DEFAULT_DAYS = 30


def _period_choices() -> list[tuple[str, str]]:
    return [
        (str(days), _("Last %(days)s days") % {"days": days})
        for days in PRESET_DAYS
        if days != DEFAULT_DAYS
    ]


class PageViewsFilterSet(WagtailFilterSet):
    period = django_filters.ChoiceFilter(
        label=_("Period"),
        choices=_period_choices,
        empty_label=_("Last %(days)s days") % {"days": DEFAULT_DAYS},
        widget=forms.RadioSelect,
        method="keep",
    )
    dates = django_filters.DateFromToRangeFilter(
        label=_("Custom range"), widget=DateRangePickerWidget, method="keep"
    )
    content_type = ContentTypeFilter(
        label=_("Page type"),
        queryset=lambda request: ContentType.objects.filter(
            pk__in=[ct.pk for ct in tracked_page_types()]
        ),
    )
    section = django_filters.ModelChoiceFilter(
        label=_("Section"),
        queryset=Page.objects.all(),
        widget=AdminPageChooser(can_choose_root=False),
        method="in_section",
        help_text=_("A page and everything under it."),
    )

    class Meta:
        model = Page
        fields: list[str] = []  # the declared filters, in their order

    def keep(self, queryset, name, value):
        return queryset  # read by PageViewsReportView.date_range, not a filter of pages

    def in_section(self, queryset, name, page):
        return queryset.filter(path__startswith=page.path) if page else queryset

    def date_range(self) -> DateRange:
        """The period asked for: a custom range, else a preset, else the last 30 days.

        BadParameter for a range the reports can't read (reversed, too long).
        """
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        dates = data.get("dates")
        if dates and (dates.start or dates.stop):
            params = {
                "since": _day(dates.start).isoformat() if dates.start else "",
                "until": _day(dates.stop).isoformat() if dates.stop else "",
            }
        else:
            params = {"period": data.get("period") or str(DEFAULT_DAYS)}
        return DateRange.from_params(params, default_days=DEFAULT_DAYS)


def _day(moment) -> date:
    """A date of DateFromToRangeFilter (a datetime at either end of the day), as a local day."""
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def _change_text(page) -> str:
    if page.views_change is None:
        return str(_("new")) if page.period_views else ""
    return f"{page.views_change:+.1f}%".replace("-", "\u2212")


class LinkColumn(Column):
    """A link that opens the page on the site (the URL is the cell's value)."""

    cell_template_name = "djinsight_wagtail/tables/link_cell.html"


class PageViewsReportView(ReportView):
    page_title = _("Page views")
    header_icon = "view"
    index_url_name = "djinsight_wagtail:page_views"
    index_results_url_name = "djinsight_wagtail:page_views_results"
    results_template_name = "djinsight_wagtail/reports/page_views_results.html"
    filterset_class = PageViewsFilterSet
    default_ordering = "-views"
    paginate_by = 50
    context_object_name = "pages"
    export_filename = "page-views"
    list_export = [
        "title",
        "page_type_label",
        "period_views",
        "period_unique",
        "previous_views",
        "views_change",
        "live_url",
    ]
    export_headings = {
        "title": _("Title"),
        "page_type_label": _("Type"),
        "period_views": _("Views"),
        "period_unique": _("Unique visitors"),
        "previous_views": _("Views, previous period"),
        "views_change": _("Change (%)"),
        "live_url": _("URL"),
    }
    columns = [
        TitleColumn("title", label=_("Page"), url_name="wagtailadmin_pages:edit", sort_key="title"),
        Column("page_type_label", label=_("Type"), width="15%"),
        NumberColumn("period_views", label=_("Views"), sort_key="views", width="10%"),
        NumberColumn("period_unique", label=_("Unique visitors"), sort_key="unique", width="12%"),
        Column("change", label=_("Change"), accessor=_change_text, sort_key="change", width="10%"),
        LinkColumn("live_url", label=_("Live"), width="8%"),
    ]

    def dispatch(self, request, *args, **kwargs):
        if not can_view_analytics(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_filename(self) -> str:
        return f"page-views-{self.date_range.since}-{self.date_range.until}"

    @cached_property
    def date_range(self) -> DateRange:
        if not self.filters:  # pragma: no cover - the filterset always has fields
            return DateRange.last(DEFAULT_DAYS)
        try:
            return self.filters.date_range()
        except BadParameter as exc:
            self.filters.form.add_error("dates", exc.message)
            return DateRange.last(DEFAULT_DAYS)

    def get_page_subtitle(self) -> str:
        rng, previous = self.date_range, self.date_range.previous()
        day = lambda d: formats.date_format(d, "SHORT_DATE_FORMAT")  # noqa: E731
        return _("%(since)s to %(until)s, against %(before)s to %(before_until)s") % {
            "since": day(rng.since),
            "until": day(rng.until),
            "before": day(previous.since),
            "before_until": day(previous.until),
        }

    def get_queryset(self):
        self.queryset = tracked_pages()
        return super().get_queryset()

    def order_queryset(self, queryset):
        return queryset  # PageFigures sorts in SQL, by the figures

    def get_filtered_queryset(self):
        return PageFigures(self.get_queryset(), self.date_range, self.ordering)

    def decorate_paginated_queryset(self, object_list):
        if self.is_export:
            return (self.decorate(page) for page in object_list)
        return [self.decorate(page) for page in object_list]

    def decorate(self, page: Page) -> Page:
        content_type = ContentType.objects.get_for_id(page.content_type_id)  # cached
        page.page_type_label = get_content_type_label(content_type)
        page.live_url = (page.get_url(self.request) or "") if page.live else ""
        page.edit_url = reverse("wagtailadmin_pages:edit", args=[page.pk])
        return page
