from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create djinsight's periodic tasks in django_celery_beat (flush, summaries, cleanup)."

    def handle(self, *args, **options):
        from django.apps import apps

        if not apps.is_installed("django_celery_beat"):
            raise CommandError("add 'django_celery_beat' to INSTALLED_APPS first")
        from djinsight.pipeline.schedule import install_periodic_tasks

        created = install_periodic_tasks()
        for name in created:
            self.stdout.write(f"  created {name}")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} periodic tasks created."))
