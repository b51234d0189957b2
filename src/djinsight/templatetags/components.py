"""Plain functions behind the template tags: finding objects, batching stats, building HTML.

Figures come from ``djinsight.stats.prefetch.stats_for``: live, and fetched for every
tracked object in the context at once, so a page of many objects costs one
Redis round trip (I5).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from django.conf import settings as django_settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from djinsight.conf import settings
from djinsight.rules import is_editor
from djinsight.stats.figures import Periods, ViewStats
from djinsight.stats.formatting import format_moment
from djinsight.stats.prefetch import once, resolve, stats_for
from djinsight.tracking.references import sign

logger = logging.getLogger("djinsight")

CONTEXT_NAMES = ("page", "object", "article", "post", "item")
PERIODS = ("week", "month")
DEFAULT_REFRESH = 30


def find_object(context, obj=None):
    """``obj`` if given, else the first tracked object in the context.

    Looked up in the order page, object, article, post, item. A Wagtail base
    ``Page`` (``page.get_children``) stands for its specific instance, fetched
    with the other pages of its list (``prefetch.resolve``).
    """
    if obj is not None:
        found = resolve(context, obj)
        if found is None:
            _explain(obj)
        return found
    for name in CONTEXT_NAMES:
        candidate = resolve(context, context.get(name))
        if candidate is not None:
            return candidate
    return None


def _explain(obj) -> None:
    """In DEBUG, say why a tag given an object renders nothing (not in production logs)."""
    if django_settings.DEBUG:
        logger.warning(
            "djinsight: a stat tag was given %r (%s), which is not a saved instance of a model "
            "using PageViewStatisticsMixin; it renders nothing. For Wagtail pages, the "
            "page type must use the mixin.",
            obj,
            type(obj).__name__,
        )


def csp_nonce(context) -> str | None:
    return context.get("csp_nonce") or getattr(context.get("request"), "csp_nonce", None)


def script_tag(context, path: str, **data) -> str:
    """An external, deferred script configured by data-* attributes (never inline code)."""
    nonce = csp_nonce(context)
    attrs = format_html_join(
        "", ' data-{}="{}"', ((k.rstrip("_").replace("_", "-"), v) for k, v in data.items())
    )
    return format_html(
        '<script src="{}"{}{} defer></script>',
        static(path),
        attrs,
        format_html(' nonce="{}"', nonce) if nonce else "",
    )


# --- HTML ---------------------------------------------------------------------

# kind -> (label, attribute of ViewStats)
STATS = {
    "total_views": lambda: _("Total views"),
    "unique_views": lambda: _("Unique views"),
    "views_today": lambda: _("Today"),
    "views_week": lambda: _("This week"),
    "views_month": lambda: _("This month"),
    "first_viewed_at": lambda: _("First viewed"),
    "last_viewed_at": lambda: _("Last viewed"),
}


def stat_value(kind: str, stats: ViewStats) -> str:
    value = getattr(stats, kind)
    if kind.endswith("_at"):
        if value is None:
            return format_html('<span class="djinsight-stat-value">{}</span>', _("never"))
        return format_html(
            '<time class="djinsight-stat-value" datetime="{}">{}</time>',
            value.isoformat(),
            format_moment(value),
        )
    return format_html('<span class="djinsight-stat-value">{}</span>', value)


def stat_item(kind: str, stats: ViewStats) -> str:
    """One figure: ``<span class="djinsight-stat-item">label value</span>``."""
    return format_html(
        '<span class="djinsight-stat-item djinsight-stat-{}" data-djinsight-stat="{}">'
        '<span class="djinsight-stat-label">{}</span> {}</span>',
        kind.replace("_", "-"),
        kind,
        STATS[kind](),
        stat_value(kind, stats),
    )


def render_stat(context, kind: str, obj=None) -> str:
    obj = find_object(context, obj)
    if obj is None:
        return ""
    return stat_item(kind, stats_for(context, obj))


def refresh_seconds(value) -> int:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return DEFAULT_REFRESH
    return max(1, seconds)


def live_block(context, obj, kinds: Iterable[str], css_class: str, refresh_interval) -> str:
    """Figures that live.js refreshes in place every ``refresh_interval`` seconds."""
    stats = stats_for(context, obj)
    items = format_html_join("\n", "{}", ((stat_item(kind, stats),) for kind in kinds))
    block = format_html(
        '<div class="{}" data-djinsight-live data-ref="{}" data-endpoint="{}" data-refresh="{}">'
        "\n{}\n</div>",
        css_class,
        sign(obj),
        reverse("djinsight:live"),
        refresh_seconds(refresh_interval),
        items,
    )
    if once(context, "live.js"):
        block = format_html("{}\n{}", block, script_tag(context, "djinsight/live.js"))
    return block


def live_stats_counter(
    context, obj=None, show_unique=True, refresh_interval=DEFAULT_REFRESH
) -> str:
    obj = find_object(context, obj)
    if obj is None:
        return ""
    kinds = (
        ["total_views", "unique_views", "views_today"]
        if show_unique
        else [
            "total_views",
            "views_today",
        ]
    )
    return live_block(context, obj, kinds, "djinsight-live-counter", refresh_interval)


def page_stats_display(context, obj=None, refresh_interval=DEFAULT_REFRESH) -> str:
    obj = find_object(context, obj)
    if obj is None:
        return ""
    kinds = [
        "total_views",
        "unique_views",
        "views_today",
        "views_week",
        "views_month",
        "last_viewed_at",
    ]
    return live_block(context, obj, kinds, "djinsight-stats-display", refresh_interval)


def sparkline(daily: dict[date, int], start: date, length: int) -> str:
    """Inline SVG polyline of views per day; x spans the whole period, drawn up to today."""
    width, height, pad = 140, 32, 2
    days = sorted(d for d in daily if d >= start)
    values = [daily[d] for d in days]
    peak = max(values, default=0) or 1
    step = (width - 2 * pad) / max(length - 1, 1)
    points = [
        (pad + (d - start).days * step, height - pad - (v / peak) * (height - 2 * pad))
        for d, v in zip(days, values, strict=True)
    ]
    label = ", ".join(f"{d:%b %d}: {v}" for d, v in zip(days, values, strict=True))
    shape = format_html(
        '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="1.5"/>',
        " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
    )
    if points:
        x, y = points[-1]
        shape = format_html(
            '{}<circle cx="{}" cy="{}" r="2" fill="currentColor"/>', shape, f"{x:.1f}", f"{y:.1f}"
        )
    return format_html(
        '<svg class="djinsight-sparkline" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        label,
        label,
        shape,
    )


def page_analytics_widget(context, obj=None, period="week") -> str:
    obj = find_object(context, obj)
    if obj is None:
        return ""
    if period not in PERIODS:
        logger.warning(
            "djinsight: page_analytics_widget period %r is not 'week' or 'month'", period
        )
        period = "week"
    stats = stats_for(context, obj)
    periods = Periods.current()
    if period == "week":
        start, length = periods.week_start, 7
    else:
        start = periods.month_start
        following = (start.replace(day=28) + (date.resolution * 4)).replace(day=1)
        length = (following - start).days
    kind = f"views_{period}"
    items = format_html_join(
        "\n",
        "{}",
        (
            (stat_item(k, stats),)
            for k in ("total_views", "unique_views", "views_today", kind, "last_viewed_at")
        ),
    )
    caption = _("Daily views this week") if period == "week" else _("Daily views this month")
    return format_html(
        '<div class="djinsight-analytics-widget" data-djinsight-period="{}">\n'
        '<div class="djinsight-widget-title">{}</div>\n'
        '<div class="djinsight-widget-stats">\n{}\n</div>\n'
        '<figure class="djinsight-widget-chart">{}<figcaption>{}</figcaption></figure>\n</div>',
        period,
        obj.get_display_name(),
        items,
        sparkline(stats.daily, start, length),
        caption,
    )


def counts_views(request) -> bool:
    """False for a request whose views must not be counted.

    Wagtail's previews (the editor's preview panel, "View draft", revision
    previews) set ``request.is_preview``; with ``DJINSIGHT_SKIP_EDITORS``, so are
    the views of logged-in editors (``rules.is_editor``).
    """
    if request is None:
        return True
    if getattr(request, "is_preview", False):
        return False
    return not (settings.SKIP_EDITORS and is_editor(getattr(request, "user", None)))


def page_view_tracker(context, obj=None, async_load=True, debug=False) -> str:
    obj = find_object(context, obj)
    if obj is None or not settings.ENABLE_TRACKING or not counts_views(context.get("request")):
        return ""
    return script_tag(
        context,
        "djinsight/tracker.min.js",
        endpoint=reverse("djinsight:record"),
        ref=sign(obj),
        async_=_flag(async_load),
        debug=_flag(debug),
        respect_dnt=_flag(settings.RESPECT_DNT),
        respect_gpc=_flag(settings.RESPECT_GPC),
    )


def _flag(value) -> str:
    return "true" if value and value not in ("false", "False", "0") else "false"
