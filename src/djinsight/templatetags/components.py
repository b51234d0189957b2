"""Plain functions behind the template tags: finding objects, batching stats, building HTML.

Figures come from ``djinsight.stats.get_stats`` (live: includes views not yet
flushed). A page that shows stats for many objects must not ask Redis once per
object, so the first stat on a page fetches the figures of every tracked object
the context holds (lists, evaluated querysets, paginator pages) in one call and
keeps them for the rest of the render; see ``StatsCache``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache

from django.core.paginator import Page
from django.db.models import QuerySet
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import LazyObject
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..conf import settings
from ..keys import ObjectName
from ..models import PageViewStatisticsMixin
from ..references import sign
from ..stats import Periods, ViewStats, get_stats

logger = logging.getLogger("djinsight")

CONTEXT_NAMES = ("page", "object", "article", "post", "item")
PERIODS = ("week", "month")
DEFAULT_REFRESH = 30
MAX_PREFETCH = 500  # objects fetched ahead in one Redis call
MAX_SCAN = 1000  # items looked at per list in the context


def is_tracked(obj) -> bool:
    return isinstance(obj, PageViewStatisticsMixin) and getattr(obj, "pk", None) is not None


def find_object(context, obj=None):
    """``obj`` if given, else the first tracked object in the context.

    Looked up in the order page, object, article, post, item.
    """
    if obj is not None:
        return obj if is_tracked(obj) else None
    for name in CONTEXT_NAMES:
        candidate = context.get(name)
        if is_tracked(candidate):
            return candidate
    return None


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


# --- batching -----------------------------------------------------------------


def _tracked_in(value) -> Iterable:
    """Tracked objects a context value holds, without running any query."""
    if isinstance(value, LazyObject):
        # e.g. csrf_token, user: evaluating them would set a cookie or query the session
        return
    if is_tracked(value):
        yield value
        return
    if isinstance(value, QuerySet):
        # only querysets the template already evaluated ({% for %} has by the time a tag runs)
        if value._result_cache is None or not issubclass(value.model, PageViewStatisticsMixin):
            return
        value = value._result_cache
    elif isinstance(value, Page):
        value = value.object_list
        if isinstance(value, QuerySet):
            yield from _tracked_in(value)
            return
    if isinstance(value, (list, tuple)):
        for item in value[:MAX_SCAN]:
            if is_tracked(item):
                yield item


class StatsCache:
    """Figures fetched during one render (or one request), keyed by object name."""

    def __init__(self) -> None:
        self.stats: dict[ObjectName, ViewStats] = {}
        self.scripts: set[str] = set()

    def get(self, context, obj) -> ViewStats:
        name = ObjectName.of(obj)
        if name not in self.stats:
            self._fetch(obj, self._candidates(context))
        return self.stats.get(name) or ViewStats()

    def _candidates(self, context) -> list:
        found: dict[ObjectName, object] = {}
        for layer in context.dicts:
            for value in list(layer.values()):
                for item in _tracked_in(value):
                    name = ObjectName.of(item)
                    if name not in self.stats and name not in found:
                        found[name] = item
                        if len(found) >= MAX_PREFETCH:
                            return list(found.values())
        return list(found.values())

    def _fetch(self, obj, others: list) -> None:
        objects = [obj, *[o for o in others if o is not obj]]
        try:
            self.stats.update(get_stats(objects))
        except Exception:  # a stats tag must never take the page down (I9)
            logger.exception("djinsight: could not read view statistics; showing stored figures")
            for item in objects:
                self.stats[ObjectName.of(item)] = ViewStats(
                    total_views=getattr(item, "total_views", 0) or 0,
                    unique_views=getattr(item, "unique_views", 0) or 0,
                    first_viewed_at=getattr(item, "first_viewed_at", None),
                    last_viewed_at=getattr(item, "last_viewed_at", None),
                )


CACHE_ATTRIBUTE = "_djinsight_stats_cache"


def stats_cache(context) -> StatsCache:
    """The render's cache: kept on the request when there is one, else on the context."""
    holder = context.get("request")
    if holder is None or not hasattr(holder, "__dict__"):
        holder = context
    cache = getattr(holder, CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = StatsCache()
        setattr(holder, CACHE_ATTRIBUTE, cache)
    return cache


def stats_for(context, obj) -> ViewStats:
    return stats_cache(context).get(context, obj)


def once(context, key: str) -> bool:
    """True the first time ``key`` is asked for in this render (to emit a script once)."""
    scripts = stats_cache(context).scripts
    if key in scripts:
        return False
    scripts.add(key)
    return True


# --- formatting ---------------------------------------------------------------

UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def format_view_count(value) -> str:
    """1234 → "1.2K", 1250000 → "1.2M"; rounds down so a count is never overstated.

    None and "" give "0"; a value that is not a number comes back unchanged.
    """
    if value is None or value == "":
        return "0"
    if isinstance(value, bool):
        return str(value)
    try:
        number = int(float(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        return str(value)
    sign_ = "-" if number < 0 else ""
    number = abs(number)
    for size, unit in UNITS:
        if number >= size:
            tenths = number * 10 // size
            whole, decimal = divmod(tenths, 10)
            return f"{sign_}{whole}{'.' + str(decimal) if decimal else ''}{unit}"
    return f"{sign_}{number}"


def format_moment(moment: datetime | None) -> str:
    if moment is None:
        return _("never")
    # Live counters re-send the same moments every few seconds; formatting is the slow part.
    return _format_moment(
        moment, get_language(), timezone.get_current_timezone_name(),
        formats.get_format("DATETIME_FORMAT"),
    )


@lru_cache(maxsize=4096)
def _format_moment(moment: datetime, language, tz_name: str, pattern: str) -> str:
    return formats.date_format(timezone.localtime(moment), pattern)


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


def page_view_tracker(context, obj=None, async_load=True, debug=False) -> str:
    obj = find_object(context, obj)
    if obj is None or not settings.ENABLE_TRACKING:
        return ""
    return script_tag(
        context,
        "djinsight/tracker.min.js",
        endpoint=reverse("djinsight:record"),
        ref=sign(obj),
        async_=_flag(async_load),
        debug=_flag(debug),
        respect_dnt=_flag(settings.RESPECT_DNT),
    )


def _flag(value) -> str:
    return "true" if value and value not in ("false", "False", "0") else "false"
