"""The analytics dashboard: every panel's figures for one range, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from djinsight.reports import labels
from djinsight.reports.audience import Audience, audience
from djinsight.reports.params import DateRange
from djinsight.reports.queries import (
    ContentRow,
    Point,
    Totals,
    TypeRow,
    content_types,
    hours,
    series,
    top_content,
    top_per_type,
    top_values,
    totals,
    trending,
)


@dataclass
class Dashboard:
    """Every figure of the analytics dashboard for one range."""

    range: DateRange
    granularity: str
    totals: Totals
    series: list[Point]
    top: list[ContentRow]
    per_type: list[tuple[TypeRow, list[ContentRow]]]
    trending: list[ContentRow]
    types: list[TypeRow]
    referrers: list[tuple[str, int]]
    paths: list[tuple[str, int]]
    browsers: list[tuple[str, int]]
    oses: list[tuple[str, int]]
    devices: list[tuple[str, int]]
    hours: list[int] = field(default_factory=list)
    audience: Audience = field(default_factory=Audience)


def dashboard(rng: DateRange, granularity: str = "day", limit: int = 10) -> Dashboard:
    """All panels: a fixed number of queries (13 + one per content type shown)."""
    top = top_content(rng, limit=limit)
    per_type_rows = top_per_type(rng, limit=5)
    trend = trending(rng, limit=limit)
    types = content_types(rng)
    labels.resolve([*top, *trend, *types, *(r for rows in per_type_rows.values() for r in rows)])
    overall = totals(rng)
    return Dashboard(
        range=rng,
        granularity=granularity,
        totals=overall,
        series=series(rng, granularity),
        top=top,
        per_type=[(t, per_type_rows.get(t.content_type_id, [])) for t in types if t.views],
        trending=trend,
        types=types,
        referrers=top_values(rng, "referrer_domain"),
        paths=top_values(rng, "path"),
        browsers=top_values(rng, "browser"),
        oses=top_values(rng, "os"),
        devices=top_values(rng, "device"),
        hours=hours(rng),
        audience=audience(rng, human=overall.views),
    )
