from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DjinsightConfig(AppConfig):
    name = "djinsight"
    label = "djinsight"
    verbose_name = _("djinsight analytics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from djinsight import checks, signals  # noqa: F401 (registers checks and signals)
        from djinsight.pipeline.schedule import on_post_migrate
        from djinsight.tracking import deletions

        post_migrate.connect(on_post_migrate, dispatch_uid="djinsight.periodic_tasks")
        deletions.connect()
        try:
            from celery.signals import beat_init
        except ImportError:  # pragma: no cover - celery is a dependency
            return
        from djinsight.pipeline.schedule import on_beat_init

        beat_init.connect(on_beat_init, dispatch_uid="djinsight.beat_schedule")
