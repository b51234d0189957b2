import uuid

from django.db import models
from django.urls import reverse
from djInsight.models import PageViewStatisticsMixin
from wagtail.models import Page


class Article(models.Model, PageViewStatisticsMixin):
    """Written exactly as the specification writes it: the mixin after models.Model."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    content = models.TextField(blank=True)
    published_at = models.DateTimeField(auto_now_add=True)

    def get_absolute_url(self):
        return reverse("article_detail", kwargs={"slug": self.slug})

    def __str__(self):
        return self.title


class Product(PageViewStatisticsMixin, models.Model):
    """The mixin first, and a UUID primary key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=100)

    def get_display_name(self):
        return f"Product: {self.name}"

    def __str__(self):
        return self.name


class Untracked(models.Model):
    name = models.CharField(max_length=100)


class BlogPage(Page, PageViewStatisticsMixin):
    introduction = models.TextField(blank=True)


class FeaturedArticle(Article):
    """Multi-table inheritance: the figures live in the parent's table."""

    badge = models.CharField(max_length=50, blank=True)
