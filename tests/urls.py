from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from tests.testapp import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("djInsight/", include("djInsight.urls")),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
    path("articles/", views.article_list, name="article_list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("live/<slug:slug>/", views.live_article, name="live_article"),
    path("twice/<slug:slug>/", views.two_trackers, name="two_trackers"),
    path("cms/", include(wagtailadmin_urls)),
    # Wagtail serves its page tree under a prefix here, so that the tests of what
    # Django answers elsewhere (404s) don't meet its catch-all.
    path("pages/", include(wagtail_urls)),
]
