import argparse
import contextlib
import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from djinsight.reports import export
from djinsight.reports.params import MAX_DAYS, DateRange


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


class Progress:
    """A one-line progress bar on stderr, redrawn at most five times a second."""

    def __init__(self, stream, total: int, enabled: bool = True) -> None:
        self.stream, self.total, self.enabled = stream, total, enabled
        self.done, self.drawn_at = 0, 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self.drawn_at >= 0.2:
            self.drawn_at = now
            self.draw()

    def draw(self) -> None:
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(f"\r[{bar:<30}] {share:4.0%} {self.done}/{self.total} rows")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.draw()
            self.stream.write("\n")


class Command(BaseCommand):
    help = (
        "Export daily summaries or raw page-view logs for a date range as CSV or NDJSON, "
        "streamed in constant memory."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format", choices=export.FORMATS, default="csv", help="Output format (default: csv)."
        )
        parser.add_argument(
            "--kind",
            choices=export.KINDS,
            default="summaries",
            help="What to export: daily summaries or raw logs (default: summaries).",
        )
        parser.add_argument(
            "--since",
            type=iso_date,
            default=None,
            help="First day, YYYY-MM-DD in the site's TIME_ZONE (default: 30 days before --until).",
        )
        parser.add_argument(
            "--until",
            type=iso_date,
            default=None,
            help="Last day, included, YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--output", default="-", help="File to write (default: '-', standard output)."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar on stderr."
        )

    def handle(self, *args, **options):
        until = options["until"] or timezone.localdate()
        since = options["since"] or DateRange.last(30, until).since
        if since > until:
            raise CommandError(f"--since {since} is after --until {until}")
        rng = DateRange(since, until)
        if rng.days > MAX_DAYS:
            raise CommandError(f"the range spans {rng.days} days; at most {MAX_DAYS} are allowed")
        fmt, kind, output = options["format"], options["kind"], options["output"]
        total = export.count(kind, rng)
        progress = Progress(sys.stderr, total, enabled=not options["no_progress"])
        try:
            stream = (
                contextlib.nullcontext(sys.stdout)
                if output == "-"
                else open(  # noqa: SIM115
                    output, "w", encoding="utf-8", newline=""
                )
            )
        except OSError as exc:
            raise CommandError(f"cannot write {output!r}: {exc.strerror}") from None
        with stream as out:
            for line in export.lines(fmt, kind, self._counted(export.rows(kind, rng), progress)):
                out.write(line)
        progress.finish()
        if output != "-":
            self.stderr.write(self.style.SUCCESS(f"Wrote {progress.done} {kind} rows to {output}."))

    @staticmethod
    def _counted(rows, progress: Progress):
        for row in rows:
            progress.advance()
            yield row
