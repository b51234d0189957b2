"""Rankings and charts for the demo's dashboard.

Live figures come from ``djinsight.stats.get_stats`` (one Redis round trip for
every object shown); history comes from the daily summaries (one query), so
the dashboard costs the same few queries however many objects it ranks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Sum
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from djinsight.models import PageViewSummary
from djinsight.stats import ViewStats, get_stats
from djinsight.store.keys import ObjectName

SPARK_DAYS = 30
TOP = 5


@dataclass
class Ranked:
    obj: object
    stats: ViewStats
    last_week: int = 0
    week_before: int = 0
    daily: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        return getattr(self.obj, "title", None) or getattr(self.obj, "name", None) or str(self.obj)

    @property
    def growth(self) -> int | None:
        """Percent change of the last 7 days over the 7 before (None when new)."""
        if not self.week_before:
            return None
        return round((self.last_week - self.week_before) * 100 / self.week_before)

    @property
    def sparkline(self) -> str:
        return sparkline(self.daily)


def _daily_views(models, since: date) -> dict[tuple[int, str], dict[date, int]]:
    cts = ContentType.objects.get_for_models(*models)
    rows = PageViewSummary.objects.filter(
        content_type__in=list(cts.values()), date__gte=since
    ).values_list("content_type_id", "object_id", "date", "total_views")
    per_object: dict[tuple[int, str], dict[date, int]] = defaultdict(dict)
    for ct_id, object_id, day, views in rows:
        per_object[(ct_id, object_id)][day] = views
    return per_object


def dashboard(models) -> dict:
    today = timezone.localdate()
    since = today - timedelta(days=SPARK_DAYS - 1)
    cts = ContentType.objects.get_for_models(*models)
    daily = _daily_views(models, since)
    sections = []
    everything: list[Ranked] = []
    objects = {model: list(model.objects.all()) for model in models}
    stats = get_stats([o for objs in objects.values() for o in objs])
    for model, objs in objects.items():
        ranked = []
        for obj in objs:
            days = daily.get((cts[model].pk, str(obj.pk)), {})
            item = Ranked(obj, stats[ObjectName.of(obj)])
            # today's flushed summary may lag the live figure; the live one wins
            days = {**days, today: max(days.get(today, 0), item.stats.views_today)}
            item.daily = [days.get(since + timedelta(days=i), 0) for i in range(SPARK_DAYS)]
            item.last_week = sum(item.daily[-7:])
            item.week_before = sum(item.daily[-14:-7])
            ranked.append(item)
        everything += ranked
        sections.append(
            {
                "title": model._meta.verbose_name_plural.title(),
                "most_viewed": sorted(ranked, key=lambda r: -r.stats.total_views)[:TOP],
                "trending": _trending(ranked)[:TOP],
                "today": sorted(ranked, key=lambda r: -r.stats.views_today)[:TOP],
            }
        )
    return {
        "sections": sections,
        "top_today": sorted(everything, key=lambda r: -r.stats.views_today)[:TOP],
        "views_today": sum(r.stats.views_today for r in everything),
        "views_week": sum(r.stats.views_week for r in everything),
        "views_total": sum(r.stats.total_views for r in everything),
    }


def _trending(ranked: list[Ranked]) -> list[Ranked]:
    """Biggest week-on-week growth among items with enough views to mean something."""
    candidates = [r for r in ranked if r.last_week >= 20 and 0 < r.week_before < r.last_week]
    return sorted(candidates, key=lambda r: -(r.last_week / r.week_before))


def sparkline(values: list[int], width: int = 120, height: int = 28) -> str:
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - v * (height - 4) / top:.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="daily views, last {n} days"><polyline points="{p}"/></svg>',
        w=width,
        h=height,
        n=len(values),
        p=points,
    )


def site_chart(days: int = 90, width: int = 900, height: int = 140) -> str:
    """Bars of all flushed views per day, oldest left, weekends shaded lighter."""
    today = timezone.localdate()
    since = today - timedelta(days=days - 1)
    totals = dict(
        PageViewSummary.objects.filter(date__gte=since)
        .values_list("date")
        .annotate(n=Sum("total_views"))
        .values_list("date", "n")
    )
    values = [
        (since + timedelta(days=i), totals.get(since + timedelta(days=i), 0)) for i in range(days)
    ]
    top = max((v for _, v in values), default=0) or 1
    bar = width / days
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="{}"><title>{}: {} views</title></rect>',
        (
            (
                f"{i * bar + 1:.1f}",
                f"{height - v * (height - 8) / top:.1f}",
                f"{max(bar - 2, 1):.1f}",
                f"{v * (height - 8) / top:.1f}",
                "weekend" if day.weekday() >= 5 else "weekday",
                day.strftime("%a %d %b"),
                v,
            )
            for i, (day, v) in enumerate(values)
        ),
    )
    return format_html(
        '<svg class="site-chart" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" '
        'aria-label="views per day, last {d} days">{bars}</svg>',
        w=width,
        h=height,
        d=days,
        bars=bars,
    )
