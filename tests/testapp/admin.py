from django.contrib import admin

from djinsight.admin import ViewStatisticsAdminMixin

from .models import Article, Product


@admin.register(Article)
class ArticleAdmin(ViewStatisticsAdminMixin, admin.ModelAdmin):
    list_display = ("title", "slug")


@admin.register(Product)
class ProductAdmin(ViewStatisticsAdminMixin, admin.ModelAdmin):
    list_display = ("name",)
