"""The djinsight demo project. ``celery -A demo_site`` finds the app here."""

from .celery import app as celery_app

__all__ = ["celery_app"]
