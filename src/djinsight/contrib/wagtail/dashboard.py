"""The "Most viewed pages" panel on the Wagtail dashboard (``construct_homepage_panels``)."""

from __future__ import annotations

from django.urls import reverse
from wagtail.admin.ui.components import Component
from wagtail.models import Page

from djinsight.contrib.wagtail.pages import tracked_page_types
from djinsight.reports import queries
from djinsight.reports.params import DateRange
from djinsight.rules import object_pk

DAYS = 7


class MostViewedPagesPanel(Component):
    name = "djinsight_most_viewed"
    template_name = "djinsight_wagtail/home/most_viewed.html"
    order = 150  # after Wagtail's summary, before its moderation and recent edits panels
    limit = 5

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        rng = DateRange.last(DAYS)
        # two queries: the ranking (weekly and daily summaries), then the pages
        rows = queries.top_content(rng, content_type=tracked_page_types(), limit=self.limit)
        pages = Page.objects.in_bulk(
            [pk for pk in (object_pk(Page, r.object_id) for r in rows) if pk is not None]
        )
        request = parent_context.get("request")
        entries = []
        for row in rows:
            page = pages.get(object_pk(Page, row.object_id))
            if page is not None:
                url = (page.get_url(request) or "") if page.live else ""
                entries.append({"page": page, "row": row, "url": url})
        context.update(
            {
                "entries": entries,
                "days": DAYS,
                "report_url": reverse("djinsight_wagtail:page_views") + f"?period={DAYS}",
                "request": request,
            }
        )
        return context
