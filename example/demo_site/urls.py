from blog import views as blog
from courses import views as courses
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from shop import views as shop
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("djInsight/", include("djInsight.urls")),
    path("cms/", include(wagtailadmin_urls)),
    path("", views.home, name="home"),
    path("components/", views.components, name="components"),
    path("popular/", views.popular, name="popular"),
    path("articles/<slug:slug>/", blog.article_detail, name="article_detail"),
    path("products/", shop.product_list, name="product_list"),
    path("products/<slug:slug>/", shop.product_detail, name="product_detail"),
    path("categories/<slug:slug>/", shop.category_detail, name="category_detail"),
    path("courses/", courses.course_list, name="course_list"),
    path("courses/<slug:slug>/", courses.course_detail, name="course_detail"),
    path("documents/<int:pk>/", courses.document_view, name="document_view"),
    # Wagtail serves the BlogPage tree under /blog/.
    path("blog/", include(wagtail_urls)),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
