"""The specification's Article and Wagtail BlogPage, written as it writes them."""

from django.db import models
from django.urls import reverse
from djInsight.models import PageViewStatisticsMixin
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class BlogPage(Page, PageViewStatisticsMixin):
    introduction = models.TextField(blank=True)
    body = RichTextField(blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("introduction"),
        FieldPanel("body"),
    ]


class Article(models.Model, PageViewStatisticsMixin):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    content = models.TextField()
    published_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("article_detail", kwargs={"slug": self.slug})
