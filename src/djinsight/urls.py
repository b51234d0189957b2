from django.urls import path

from djinsight.api import views as api
from djinsight.stats import endpoint
from djinsight.tracking import beacon

app_name = "djinsight"

urlpatterns = [
    path("record/", beacon.record_view, name="record"),
    path("live/", endpoint.live_stats, name="live"),
    path("api/stats/<str:content_type>/<str:object_id>/", api.object_stats, name="api_stats"),
    path("api/top/", api.top_content, name="api_top"),
    path("api/timeseries/", api.timeseries, name="api_timeseries"),
    path("api/summary/", api.site_summary, name="api_summary"),
    path("api/audience/", api.audience, name="api_audience"),
    path("api/export/", api.export_data, name="api_export"),
    path("api/schema/", api.schema, name="api_schema"),
    path("api/<path:rest>", api.not_found, name="api_not_found"),
]
