"""Template tags: the tracker script and view statistics.

``{% load djinsight_tags %}`` (or the specification's ``djInsight_tags``). Every
tag is a thin wrapper over a plain function in ``components``; see
docs/template-tags.md.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from djinsight.stats import formatting
from djinsight.templatetags import components
from djinsight.templatetags.components import CONTEXT_NAMES, find_object  # noqa: F401  (public helpers)

register = template.Library()


@register.simple_tag(takes_context=True)
def page_view_tracker(context, obj=None, async_load=True, debug=False):
    """A script tag that records one view of ``obj`` when the page loads."""
    return components.page_view_tracker(context, obj, async_load, debug)


@register.simple_tag(takes_context=True)
def page_stats_display(context, obj=None, refresh_interval=components.DEFAULT_REFRESH):
    """Total, unique, today, week, month and last viewed, refreshed in place."""
    return components.page_stats_display(context, obj, refresh_interval)


@register.simple_tag(takes_context=True)
def page_analytics_widget(context, obj=None, period="week"):
    """Totals, this week's or month's views and a sparkline of daily views."""
    return components.page_analytics_widget(context, obj, period)


@register.simple_tag(takes_context=True)
def live_stats_counter(
    context, obj=None, show_unique=True, refresh_interval=components.DEFAULT_REFRESH
):
    """Total (and unique) views and today's views, refreshed every ``refresh_interval`` s."""
    return components.live_stats_counter(context, obj, show_unique, refresh_interval)


def _stat_tag(kind: str, doc: str):
    def tag(context, obj=None):
        return components.render_stat(context, kind, obj)

    tag.__doc__ = doc
    return tag


for _name, _kind, _doc in (
    ("total_views_stat", "total_views", "All views ever."),
    ("unique_views_stat", "unique_views", "Distinct visitors."),
    ("last_viewed_stat", "last_viewed_at", 'When the object was last viewed, or "never".'),
    ("first_viewed_stat", "first_viewed_at", 'When the object was first viewed, or "never".'),
    ("views_today_stat", "views_today", "Views today (TIME_ZONE calendar day)."),
    ("views_week_stat", "views_week", "Views this calendar week, from Monday."),
    ("views_month_stat", "views_month", "Views this calendar month."),
):
    register.simple_tag(_stat_tag(_kind, _doc), takes_context=True, name=_name)


@register.filter(is_safe=False)
def format_view_count(value):
    """1234 → 1.2K, 1250000 → 1.2M."""
    return formatting.format_view_count(value)


@register.simple_tag
def djinsight_css():
    """A <link> to the optional default stylesheet."""
    return format_html('<link rel="stylesheet" href="{}">', static("djinsight/djinsight.css"))


# Wagtail spellings kept for existing templates: the object is passed as ``page``.
@register.simple_tag(takes_context=True)
def wagtail_page_view_tracker(context, page=None, async_load=True, debug=False):
    return components.page_view_tracker(context, page, async_load, debug)


@register.simple_tag(takes_context=True)
def wagtail_page_stats_display(context, page=None, refresh_interval=components.DEFAULT_REFRESH):
    return components.page_stats_display(context, page, refresh_interval)


@register.simple_tag(takes_context=True)
def wagtail_page_analytics_widget(context, page=None, period="week"):
    return components.page_analytics_widget(context, page, period)
