"""Wagtail admin URLs of djinsight (under the admin's prefix, e.g. /cms/djinsight/)."""

from django.urls import path

from djinsight.contrib.wagtail.reports import PageViewsReportView

app_name = "djinsight_wagtail"
urlpatterns = [
    path("reports/page-views/", PageViewsReportView.as_view(), name="page_views"),
    path(
        "reports/page-views/results/",
        PageViewsReportView.as_view(results_only=True),
        name="page_views_results",
    ),
]
