from demo_site.admin import TrackedAdmin
from django.contrib import admin

from . import models


@admin.register(models.Product)
class ProductAdmin(TrackedAdmin):
    list_display = ("name", "price", *TrackedAdmin.stat_columns)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(models.Category)
class CategoryAdmin(TrackedAdmin):
    list_display = ("name", *TrackedAdmin.stat_columns)
    prepopulated_fields = {"slug": ("name",)}
