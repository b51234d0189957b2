from django.urls import path

from . import live, views

app_name = "djinsight"

urlpatterns = [
    path("record/", views.record_view, name="record"),
    path("live/", live.live_stats, name="live"),
]
