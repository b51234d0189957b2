"""Export memory stays flat: ``djinsight_export`` of N log rows vs N/50 rows.

    .venv/bin/python bench/export_memory.py                # 1,000,000 rows vs 20,000
    .venv/bin/python bench/export_memory.py --rows 200000  # quicker

Loads raw logs into its own PostgreSQL database (COPY, about 10 s per million),
runs the export command in a fresh process for the small and the large table
(interleaved, 2 rounds), and prints peak RSS and Python heap of each, with the
ratio large/small. Flat memory means a ratio near 1.0 while the rows grow 50x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
from bench.run import database_defaults, drop_database, reset_database  # noqa: E402

database_defaults("djinsight_bench_export")

CHILD = """
import json, resource, sys, time, tracemalloc, django
django.setup()
from django.core.management import call_command
tracemalloc.start()
started = time.monotonic()
call_command("djinsight_export", "--kind", "logs", "--format", "csv",
             "--since", "2020-01-01", "--output", "/dev/null", "--no-progress")
print(json.dumps({"seconds": time.monotonic() - started,
                  "heap_mib": tracemalloc.get_traced_memory()[1] / 2**20,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def load(rows: int) -> None:
    """Fill PageViewLog with ``rows`` rows by COPY."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from bench.benchapp.models import Item
    from djinsight.models import PageViewLog

    ct = ContentType.objects.get_for_model(Item)
    now = timezone.now()
    table = PageViewLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        with cursor.cursor.copy(
            f"COPY {table} (content_type_id, object_id, viewed_at, path, referrer, user_agent, "
            "visitor, is_unique, referrer_domain, browser, os, device) FROM STDIN"
        ) as copy:
            for i in range(rows):
                copy.write_row(
                    (
                        ct.pk,
                        str(i % 1000 + 1),
                        now,
                        f"/items/{i % 1000}/",
                        "https://example.com/",
                        "Mozilla/5.0",
                        f"v{i % 5000}",
                        i % 3 == 0,
                        "example.com",
                        "Chrome",
                        "Linux",
                        "Other",
                    )
                )


def export_once() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(f"export failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    small = max(1000, args.rows // 50)
    reset_database(os.environ["BENCH_DB_NAME"])
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
        results: dict[int, list[dict]] = {small: [], args.rows: []}
        for _round in range(2):
            for rows in (small, args.rows):
                started = time.monotonic()
                load(rows)
                print(f"loaded {rows:,} rows in {time.monotonic() - started:.1f}s", flush=True)
                results[rows].append(export_once())
                print(f"  export: {results[rows][-1]}", flush=True)
    finally:
        drop_database(os.environ["BENCH_DB_NAME"])
    best = {rows: min(runs, key=lambda r: r["rss_mib"]) for rows, runs in results.items()}
    print("\n| rows | seconds | peak RSS MiB | peak heap MiB |\n|---|---|---|---|")
    for rows, r in best.items():
        print(f"| {rows:,} | {r['seconds']:.1f} | {r['rss_mib']:.0f} | {r['heap_mib']:.1f} |")
    print(
        f"ratio large/small: RSS {best[args.rows]['rss_mib'] / best[small]['rss_mib']:.2f}x, "
        f"heap {best[args.rows]['heap_mib'] / best[small]['heap_mib']:.2f}x, "
        f"rows {args.rows / small:.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
