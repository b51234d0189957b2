"""The one tracked model the benchmarks count views of."""

from django.db import models

from djinsight.models import PageViewStatisticsMixin


class Item(models.Model, PageViewStatisticsMixin):
    title = models.CharField(max_length=100, blank=True)

    class Meta:
        app_label = "benchapp"

    def __str__(self) -> str:
        return self.title or f"Item {self.pk}"

    def get_absolute_url(self) -> str:
        return f"/items/{self.pk}/"
