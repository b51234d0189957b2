"""The specification's e-commerce examples: Product and Category."""

from django.db import models
from django.urls import reverse
from djInsight.models import PageViewStatisticsMixin


class Product(models.Model, PageViewStatisticsMixin):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.TextField()

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("product_detail", kwargs={"slug": self.slug})


# E-commerce example
class Category(models.Model, PageViewStatisticsMixin):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("category_detail", kwargs={"slug": self.slug})
