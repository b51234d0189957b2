from django.urls import path

from . import views

app_name = "djinsight"

urlpatterns = [
    path("record/", views.record_view, name="record"),
]
