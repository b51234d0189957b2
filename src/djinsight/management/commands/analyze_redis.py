from django.core.management.base import BaseCommand, CommandError

from djinsight.management.commands.process_pageviews import positive_int
from djinsight.stats.inspection import capped_views, tracked_objects


class Command(BaseCommand):
    help = "List tracked objects held in Redis: type, display name and live views. Never uses KEYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=positive_int, default=50, help="Most recently viewed objects to show."
        )

    def handle(self, *args, limit=50, **options):
        try:
            rows = tracked_objects(limit)
        except Exception as exc:
            raise CommandError(f"cannot read Redis: {exc}") from exc
        self.stdout.write("Redis Key Analysis:")
        if not rows:
            self.stdout.write("  no tracked objects in Redis")
        for row in rows:
            self.stdout.write(
                f'Object ID {row.pk}: {row.label} - "{row.display}" '
                f"({row.total} total views, {row.unique} unique, {row.pending} not yet flushed)"
            )
        self.stdout.write(f"Buffered views waiting for a flush: {sum_pending()}")
        capped = capped_views()
        self.stdout.write(
            f"Capped views (past DJINSIGHT_RATE_LIMIT, not counted), last {capped.days} days: "
            f"{capped.total} ({capped.views} past the views budget, "
            f"{capped.visitors} past the new-visitors budget)"
        )


def sum_pending() -> int:
    from djinsight.stats.inspection import buffered_views

    return buffered_views()
