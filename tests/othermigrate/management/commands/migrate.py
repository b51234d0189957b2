"""Another app's own ``migrate`` (as django-tenants ships one): it announces itself."""

from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        self.stdout.write("othermigrate's migrate ran")
        return super().handle(*args, **options)
