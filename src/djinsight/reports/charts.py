"""Server-rendered inline SVG charts: no JavaScript, no CDN, no external request.

Every label goes through ``format_html``, so user-supplied text (referrers,
paths, titles) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

COLORS = ("#417690", "#e0a030")
LABEL_CHARS = 48


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _nice_max(value: int) -> int:
    """A round axis maximum ≥ value (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= value:
                return step * m
        step *= 10


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    width: int = 760,
    height: int = 220,
    title: str = "",
) -> SafeString:
    """One polyline per (name, values) pair, with a y axis and up to 8 x labels."""
    left, right, top, bottom = 48, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    peak = _nice_max(max((max(v, default=0) for _, v in series), default=0))

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc"/>'
            '<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>',
            left,
            f"{y(tick):.1f}",
            width - right,
            f"{y(tick):.1f}",
            left - 6,
            f"{y(tick) + 4:.1f}",
            tick,
        )
        for tick in (0, peak // 2 if peak >= 2 else 0, peak)
    ]
    every = max(1, -(-n // 8))
    parts += [
        format_html(
            '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>',
            f"{x(i):.1f}",
            height - 8,
            _short(label, 12),
        )
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    for index, (name, values) in enumerate(series):
        color = COLORS[index % len(COLORS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            format_html(
                '<polyline class="djinsight-series" fill="none" stroke="{}" stroke-width="2" '
                'points="{}"><title>{}</title></polyline>',
                color,
                points,
                name,
            )
        )
        parts += [
            format_html(
                '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {} {}</title></circle>',
                f"{x(i):.1f}",
                f"{y(v):.1f}",
                color,
                labels[i] if i < len(labels) else "",
                v,
                name,
            )
            for i, v in enumerate(values)
        ]
    legend = format_html_join(
        "",
        '<tspan fill="{}">■ {}</tspan> ',
        ((COLORS[i % len(COLORS)], name) for i, (name, _) in enumerate(series)),
    )
    parts.append(format_html('<text x="{}" y="10" font-size="11">{}</text>', left + 4, legend))
    return _svg(width, height, title, parts)


def bar_chart(
    items: Sequence[tuple[str, int]], width: int = 420, bar: int = 18, title: str = ""
) -> SafeString:
    """Horizontal bars, one per (label, value); full labels in a tooltip."""
    if not items:
        return format_html('<p class="djinsight-empty">{}</p>', "No data for this period.")
    label_w, value_w = 170, 56
    plot_w = width - label_w - value_w
    peak = max(v for _, v in items) or 1
    height = len(items) * (bar + 6) + 4
    parts = []
    for i, (label, value) in enumerate(items):
        top = 2 + i * (bar + 6)
        length = max(1, round(plot_w * value / peak)) if value else 0
        parts.append(
            format_html(
                "<g><title>{}: {}</title>"
                '<text x="0" y="{}" font-size="12">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
                '<text x="{}" y="{}" font-size="12">{}</text></g>',
                label,
                value,
                top + bar - 5,
                _short(label, 26),
                label_w,
                top,
                length,
                bar,
                COLORS[0],
                label_w + length + 4,
                top + bar - 5,
                value,
            )
        )
    return _svg(width, height, title, parts)


def column_chart(
    labels: Sequence[str],
    values: Sequence[int],
    width: int = 760,
    height: int = 180,
    title: str = "",
) -> SafeString:
    """Vertical columns (e.g. views by hour of day)."""
    left, bottom, top = 40, 22, 10
    n = max(len(values), 1)
    slot = (width - left) / n
    peak = _nice_max(max(values, default=0))
    plot_h = height - top - bottom
    parts = [
        format_html(
            '<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>',
            left - 6,
            top + 8,
            peak,
        )
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        h = plot_h * value / peak
        x = left + i * slot
        parts.append(
            format_html(
                '<g><title>{}: {}</title><rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text></g>',
                label,
                value,
                f"{x + 1:.1f}",
                f"{top + plot_h - h:.1f}",
                f"{slot - 2:.1f}",
                f"{h:.1f}",
                COLORS[0],
                f"{x + slot / 2:.1f}",
                height - 6,
                label,
            )
        )
    return _svg(width, height, title, parts)


def _svg(width: int, height: int, title: str, parts: list[SafeString]) -> SafeString:
    return format_html(
        '<svg class="djinsight-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {} {}" width="100%" style="max-width:{}px" aria-label="{}">{}</svg>',
        width,
        height,
        width,
        title,
        mark_safe("".join(parts)),  # noqa: S308 - built with format_html
    )
