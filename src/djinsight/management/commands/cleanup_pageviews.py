import sys

from django.core.management.base import BaseCommand, CommandError

from djinsight.conf import settings
from djinsight.management.commands.process_pageviews import positive_int
from djinsight.pipeline.cleanup import cleanup_pageviews


class Command(BaseCommand):
    help = "Delete raw page-view logs older than N days. Daily summaries and counters stay."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=positive_int,
            default=None,
            help="Keep logs of the last N days (default: DJINSIGHT_CLEANUP_DAYS).",
        )
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, days=None, yes=False, interactive=True, **options):
        days = days or settings.CLEANUP_DAYS
        if not yes:
            if not sys.stdin or not sys.stdin.isatty():
                raise CommandError("refusing to delete without --yes (no terminal to ask)")
            answer = input(f"Delete page-view logs older than {days} days? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("cancelled; nothing deleted")

        def progress(deleted: int) -> None:
            self.stdout.write(f"  {deleted} rows deleted so far")

        deleted = cleanup_pageviews(days=days, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {deleted} page-view logs older than {days} days.")
        )
