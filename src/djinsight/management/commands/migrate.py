"""Django's migrate, also accepting the specification's label spelling ``djInsight``.

``python manage.py migrate djInsight`` (as the specification writes it) and
``migrate djinsight`` both migrate this app; everything else is Django's own
command, unchanged.
"""

from django.core.management.commands.migrate import Command as DjangoMigrate

ALIASES = {"djInsight": "djinsight"}


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        label = options.get("app_label")
        if label in ALIASES:
            options["app_label"] = ALIASES[label]
        return super().handle(*args, **options)
