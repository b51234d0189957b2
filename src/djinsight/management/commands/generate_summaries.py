from django.core.management.base import BaseCommand

from djinsight.management.commands.process_pageviews import positive_int
from djinsight.pipeline.rollups import generate_summaries


class Command(BaseCommand):
    help = (
        "Bring daily summaries up to date. Every flush writes them; --rebuild recomputes "
        "the last --days days from raw logs (only days still inside log retention)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=positive_int,
            default=1,
            help="Days to rebuild with --rebuild (default 1).",
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="Recompute summaries from raw logs."
        )

    def handle(self, *args, days=1, rebuild=False, **options):
        written = generate_summaries(days=days, rebuild=rebuild)
        if rebuild:
            self.stdout.write(
                self.style.SUCCESS(f"Rebuilt {written} daily summaries ({days} days).")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Summaries up to date ({written} views flushed).")
            )
