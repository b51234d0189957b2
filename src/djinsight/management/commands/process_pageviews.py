import argparse

from django.core.management.base import BaseCommand, CommandError

from djinsight.conf import settings
from djinsight.pipeline.flush import process_pageviews


def positive_int(text: str) -> int:
    """argparse type: argparse turns the error into a usage message, not a traceback."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


class Command(BaseCommand):
    help = "Move buffered page views from Redis into the database (counters, summaries, logs)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=None,
            help="Views per database transaction (default: DJINSIGHT_BATCH_SIZE).",
        )
        parser.add_argument(
            "--max-batches",
            type=positive_int,
            default=None,
            help="Stop after this many batches per shard (default: until the buffer is empty).",
        )
        parser.add_argument(
            "--discard-unknown",
            action="store_true",
            help="Drop buffered views of models that no longer exist or no longer use the mixin "
            "(otherwise they are kept until a process that knows the model flushes them).",
        )

    def handle(self, *args, batch_size=None, max_batches=None, verbosity=1, **options):
        discard = options.get("discard_unknown", False)
        size = batch_size or settings.BATCH_SIZE

        def progress(shard: int, views: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  shard {shard}: {views} views flushed so far")

        try:
            result = process_pageviews(
                batch_size=size, max_batches=max_batches, progress=progress, discard_unknown=discard
            )
        except Exception as exc:
            raise CommandError(f"flush failed, nothing was lost (retry later): {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Flushed {result.views} views in {result.batches} batches.")
        )
        if result.skipped_shards:
            self.stdout.write(f"Shards busy with another flusher: {result.skipped_shards}")
        for shard, labels in result.held.items():
            self.stderr.write(
                self.style.ERROR(
                    f"Shard {shard}: views of unknown models {', '.join(labels)} "
                    "kept in the buffer. "
                    "Deploy the code that defines them to this process, or rerun with "
                    "--discard-unknown if they were removed."
                )
            )
