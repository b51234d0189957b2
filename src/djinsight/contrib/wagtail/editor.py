"""The "Page views" side panel of the page editor.

Wagtail has no hook for side panels, so ``install()`` (called once from
``AppConfig.ready``) wraps the page ``EditView.get_side_panels`` to add this
panel after Wagtail's own: for tracked page types, for holders of
djinsight.view_analytics, and not in the JSON answers of autosave.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.side_panels import BaseSidePanel

from djinsight.rules import can_view_analytics
from djinsight.stats import get_stats_and_days
from djinsight.stats.prefetch import is_tracked
from djinsight.store.keys import ObjectName
from djinsight.templatetags.components import sparkline

logger = logging.getLogger("djinsight")

SPARKLINE_DAYS = 30


class PageViewsSidePanel(BaseSidePanel):
    class SidePanelToggle(BaseSidePanel.SidePanelToggle):
        aria_label = gettext_lazy("Toggle page views")
        icon_name = "view"
        has_counter = False

    name = "djinsight-page-views"
    title = gettext_lazy("Page views")
    template_name = "djinsight_wagtail/side_panels/page_views.html"
    order = 450

    @classmethod
    def shown(cls, page, request) -> bool:
        return bool(page is not None and is_tracked(page) and can_view_analytics(request.user))

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        today = timezone.localdate()
        days = [today - timedelta(days=n) for n in range(SPARKLINE_DAYS - 1, -1, -1)]
        # live: one Redis round trip for the figures and the 30 days together
        stats, per_day = get_stats_and_days([self.object], days)
        name = ObjectName.of(self.object)
        daily = per_day[name]
        context.update(
            {
                "stats": stats[name],
                "sparkline": sparkline(daily, days[0], SPARKLINE_DAYS),
                "sparkline_days": SPARKLINE_DAYS,
                "sparkline_total": sum(daily.values()),
                "report_url": reverse("djinsight_wagtail:page_views")
                + f"?section={self.object.pk}",
            }
        )
        return context


def install() -> None:
    """Add the panel to Wagtail's page editor (idempotent)."""
    try:
        from wagtail.admin.views.pages.edit import EditView
    except ImportError:  # pragma: no cover - every supported Wagtail has it
        logger.warning("djinsight: Wagtail's page EditView was not found; no Page views panel")
        return
    original = EditView.get_side_panels
    if getattr(original, "djinsight_panel", False):
        return

    @functools.wraps(original)
    def get_side_panels(self):
        panels = original(self)
        json_answer = getattr(self, "expects_json_response", False)
        if not json_answer and PageViewsSidePanel.shown(self.page, self.request):
            panels.append(PageViewsSidePanel(self.page, self.request))
        return panels

    get_side_panels.djinsight_panel = True  # type: ignore[attr-defined]
    EditView.get_side_panels = get_side_panels
