from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DjinsightWagtailConfig(AppConfig):
    name = "djinsight.contrib.wagtail"
    label = "djinsight_wagtail"
    verbose_name = _("djinsight for Wagtail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from djinsight.contrib.wagtail import editor, explorer

        editor.install()
        explorer.install()
