"""Regenerate (or check) example/demo_site/schema.sql, the demo's prebuilt database."""

from django.core.management.base import BaseCommand, CommandError

from demo_site import schema


class Command(BaseCommand):
    help = (
        "Run every migration on a new SQLite file in a temporary directory and write the "
        "result to example/demo_site/schema.sql, which run_demo.py loads instead of migrating."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; exit with status 1 if schema.sql is behind this "
            "repository's migrations",
        )

    def handle(self, *args, check=False, **options):
        if check:
            verdict = schema.check()
            behind = verdict.problems + [f"{name} is new" for name in verdict.newer]
            if behind:
                raise CommandError(
                    f"{schema.SCHEMA_SQL.name} is out of date: {', '.join(behind)}. "
                    f"Run `{schema.REFRESH}`."
                )
            self.stdout.write(f"{schema.SCHEMA_SQL.name} matches the migrations.")
            return
        self.stdout.write("Running every migration on a new SQLite file…")
        text = schema.build()
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {schema.SCHEMA_SQL} ({len(text.encode()) // 1024} KiB, "
                f"{text.count(chr(10))} lines)."
            )
        )
