from demo_site.admin import TrackedAdmin
from django.contrib import admin

from . import models


@admin.register(models.Article)
class ArticleAdmin(TrackedAdmin):
    list_display = ("title", "published_at", *TrackedAdmin.stat_columns)
    prepopulated_fields = {"slug": ("title",)}
