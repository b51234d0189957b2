"""A sortable "Views" column in Wagtail's page explorer.

Wagtail has no hook for listing columns, so ``install()`` (called once from
``AppConfig.ready``) wraps four members of the explorer's view class (so
custom ``PageViewSet`` index views that subclass it get the column too): its
columns (the column is added, before the "navigate" one, for holders of
djinsight.view_analytics), its valid orderings (not while searching: search
backends sort by their own fields),
its ordering (an annotation of the flushed totals, one subquery per tracked
page table, so SQL sorts and paginates) and its context (the live totals of
the listed pages, one Redis round trip for the whole listing page).

The figure shown is live (views not flushed yet included); the sort uses
the figures of the last flush, so a page may sit a few views out of place
until the next one.
"""

from __future__ import annotations

import functools
import logging

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import NumberColumn

from djinsight.contrib.wagtail.pages import tracked_page_models
from djinsight.rules import can_view_analytics
from djinsight.stats import live_totals
from djinsight.stats.prefetch import is_tracked
from djinsight.store.keys import ObjectName

logger = logging.getLogger("djinsight")

SORT_KEY = "djinsight_views"
ANNOTATION = "djinsight_views"


class ViewsColumn(NumberColumn):
    """All-time views, live; blank for pages of untracked types."""

    def get_value(self, instance):
        return getattr(instance, "djinsight_total", None)

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        if context["raw_value"] is None:
            context["value"] = ""
        return context


def views_column() -> ViewsColumn:
    return ViewsColumn("djinsight_views", label=_("Views"), sort_key=SORT_KEY, width="8%")


def annotate_views(pages: QuerySet) -> QuerySet:
    """``djinsight_views``: each page's flushed total, from its own type's table (else 0)."""
    holders = []  # the tables that hold the columns (a subclass reads its parent's)
    for model in tracked_page_models():
        holder = model._meta.get_field("total_views").model
        if holder not in holders:
            holders.append(holder)
    totals = [
        Subquery(holder._base_manager.filter(pk=OuterRef("pk")).values("total_views")[:1])
        for holder in holders
    ]
    return pages.annotate(**{ANNOTATION: Coalesce(*totals, Value(0), output_field=IntegerField())})


def shows_views(view) -> bool:
    return can_view_analytics(view.request.user)


def install() -> None:
    """Add the column to Wagtail's page explorer (idempotent)."""
    try:
        from wagtail.admin.views.pages.listing import ExplorableIndexView
    except ImportError:  # pragma: no cover - every supported Wagtail has it
        logger.warning("djinsight: Wagtail's ExplorableIndexView was not found; no Views column")
        return
    view = ExplorableIndexView
    if getattr(view, "djinsight_column", False):
        return
    # Django's cached_property, read on the class: the descriptor. (``columns``
    # itself is set per view by Wagtail's page viewsets, so it can't be wrapped.)
    explorable_columns = view.explorable_columns
    get_valid_orderings = view.get_valid_orderings
    order_queryset = view.order_queryset
    get_context_data = view.get_context_data

    def with_views_column(self):
        columns = list(explorable_columns.real_func(self))
        if shows_views(self):
            navigate = [i for i, c in enumerate(columns) if c.name == "navigate"]
            columns.insert(navigate[0] if navigate else len(columns), views_column())
        return columns

    @functools.wraps(get_valid_orderings)
    def valid_orderings(self):
        orderings = get_valid_orderings(self)
        if shows_views(self) and not self.is_searching:
            orderings = [*orderings, SORT_KEY, "-" + SORT_KEY]
        return orderings

    @functools.wraps(order_queryset)
    def ordered(self, queryset):
        if self.ordering not in (SORT_KEY, "-" + SORT_KEY) or self.is_searching:
            return order_queryset(self, queryset)
        key = F(ANNOTATION).desc() if self.ordering.startswith("-") else F(ANNOTATION).asc()
        return annotate_views(queryset).order_by(key, "path")

    @functools.wraps(get_context_data)
    def context_with_totals(self, **kwargs):
        context = get_context_data(self, **kwargs)
        if shows_views(self):
            pages = [p for p in context["object_list"] if is_tracked(p)]
            totals = live_totals(pages)
            for page in pages:
                page.djinsight_total = totals.get(ObjectName.of(page), 0)
        return context

    columns = cached_property(with_views_column)
    columns.__set_name__(view, "explorable_columns")
    view.explorable_columns = columns
    view.get_valid_orderings = valid_orderings
    view.order_queryset = ordered
    view.get_context_data = context_with_totals
    view.djinsight_column = True
