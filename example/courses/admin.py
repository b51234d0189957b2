from demo_site.admin import TrackedAdmin
from django.contrib import admin

from . import models


@admin.register(models.Course)
class CourseAdmin(TrackedAdmin):
    list_display = ("title", "instructor", "difficulty", *TrackedAdmin.stat_columns)
    prepopulated_fields = {"slug": ("title",)}


@admin.register(models.Document)
class DocumentAdmin(TrackedAdmin):
    list_display = ("title", "category", *TrackedAdmin.stat_columns)
