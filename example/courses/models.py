"""The specification's Course and Document: display names through get_display_name()."""

from django.db import models
from django.urls import reverse
from djInsight.models import PageViewStatisticsMixin


class Course(models.Model, PageViewStatisticsMixin):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    instructor = models.CharField(max_length=100)
    difficulty = models.CharField(max_length=50)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("course_detail", kwargs={"slug": self.slug})

    def get_display_name(self):
        return f"Course: {self.title} by {self.instructor}"


class Document(models.Model, PageViewStatisticsMixin):
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="documents/")
    category = models.CharField(max_length=100)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("document_view", kwargs={"pk": self.pk})

    def get_display_name(self):
        return f"Document: {self.title}"
