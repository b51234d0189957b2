"""Dashboard and API queries at scale: p50/p95 latency on PostgreSQL.

    .venv/bin/python bench/dashboard_queries.py                      # 10M logs, 1M summaries
    .venv/bin/python bench/dashboard_queries.py --logs 1000000       # quicker

Loads raw logs and daily summaries into its own database with COPY (90 days,
10,000 objects of one model, a few popular objects and a long tail), runs
ANALYZE, then times each query the dashboard and the API run for a 30-day
range, interleaved with a `SELECT 1` baseline, and prints p50/p95 and the
ratio of each p95 to the 100 ms goal.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
from bench.run import database_defaults, drop_database, reset_database  # noqa: E402

database_defaults("djinsight_bench_dashboard")

OBJECTS = 10_000
DAYS = 90
REFERRERS = ["", "https://www.google.com/", "https://news.ycombinator.com/", "https://t.co/x"]
AGENTS = [
    ("Chrome", "Windows", "Other"),
    ("Safari", "iOS", "iPhone"),
    ("Firefox", "Linux", "Other"),
]


def load(logs: int, summaries: int, chunk: int = 1_000_000) -> None:
    """Generate the rows inside PostgreSQL (generate_series): minutes, not an hour, for 10M.

    Logs are inserted in time order, as the flush writes them; object k gets
    about 1/k of the views (a long tail), as on a real site.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from bench.benchapp.models import Item
    from djinsight.models import PageViewDimensionTotal, PageViewLog, PageViewSummary
    from djinsight.pipeline.rollups import rebuild_rollups

    Item.objects.bulk_create(
        [Item(pk=i, title=f"Item {i}") for i in range(1, OBJECTS + 1)], batch_size=5000
    )
    ct = ContentType.objects.get_for_model(Item).pk
    per_day = max(1, summaries // DAYS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.7)")
        # object ids beyond OBJECTS stand for other content: still rows to scan
        cursor.execute(
            f"INSERT INTO {PageViewSummary._meta.db_table} "
            "(content_type_id, object_id, date, total_views, unique_views) "
            "SELECT %s, k::text, current_date - d, 1 + 1000 / k, 1 + 300 / k "
            "FROM generate_series(0, %s) AS d, generate_series(1, %s) AS k",
            [ct, DAYS - 1, per_day],
        )
        rebuild_rollups()  # what the flush keeps in step with the summaries
        referrers = "ARRAY[" + ", ".join(f"'{r}'" for r in REFERRERS) + "]"
        domains = "ARRAY[" + ", ".join(f"'{r.split('/')[2] if r else ''}'" for r in REFERRERS) + "]"
        agents = ["ARRAY[" + ", ".join(f"'{a[i]}'" for a in AGENTS) + "]" for i in range(3)]
        for first in range(0, logs, chunk):
            last = min(logs, first + chunk) - 1
            cursor.execute(
                f"INSERT INTO {PageViewLog._meta.db_table} "
                "(content_type_id, object_id, viewed_at, path, "
                "referrer, user_agent, visitor, is_unique, referrer_domain, browser, os, device) "
                "SELECT %s, k::text, now() - make_interval(secs => %s::float8 * (%s - i) / %s), "
                "'/items/' || k || '/', "
                f"({referrers})[1 + i %% 4], 'Mozilla/5.0', 'v' || i %% 50000, i %% 3 = 0, "
                f"({domains})[1 + i %% 4], ({agents[0]})[1 + i %% 3], ({agents[1]})[1 + i %% 3], "
                f"({agents[2]})[1 + i %% 3] "
                "FROM (SELECT i, least(%s, floor(power(1 - random(), -1 / 1.1)))::int AS k "
                "FROM generate_series(%s, %s) AS i) AS g",
                [ct, DAYS * 86400, logs, logs, OBJECTS, first, last],
            )
            print(f"  {last + 1:,} of {logs:,} logs", flush=True)
        # The daily dimension totals the flush writes with the logs, here in SQL
        # (bench settings: UTC).
        day = "(viewed_at AT TIME ZONE 'UTC')::date"
        for dimension in ("referrer_domain", "path", "browser", "os", "device", "hour"):
            value = (
                "to_char(viewed_at AT TIME ZONE 'UTC', 'HH24')"
                if dimension == "hour"
                else f"left({dimension}, 255)"
            )
            cursor.execute(
                f"INSERT INTO {PageViewDimensionTotal._meta.db_table} "
                "(dimension, date, value, views) "
                f"SELECT %s, {day}, {value}, count(*) FROM {PageViewLog._meta.db_table} "
                f"WHERE {value} <> '' GROUP BY 2, 3",
                [dimension],
            )
        # What autovacuum would have done to tables this old: statistics and the
        # visibility map (index-only scans).
        cursor.execute("VACUUM ANALYZE")


def queries():
    from djinsight.reports import queries

    rng = queries.DateRange.last(30)
    return {
        "totals (30 days, with previous period)": lambda: queries.totals(rng),
        "time series, daily": lambda: queries.series(rng, "day"),
        "time series, weekly": lambda: queries.series(rng, "week"),
        "top content (limit 10)": lambda: queries.top_content(rng, limit=10),
        "top content per type": lambda: queries.top_per_type(rng),
        "trending": lambda: queries.trending(rng),
        "content-type comparison": lambda: queries.content_types(rng),
        "top referrer domains": lambda: queries.top_values(rng, "referrer_domain"),
        "top paths": lambda: queries.top_values(rng, "path"),
        "views by hour": lambda: queries.hours(rng),
    }


def measure(rounds: int) -> dict[str, list[float]]:
    from django.db import connection

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    timings: dict[str, list[float]] = {"SELECT 1 (baseline)": []}
    named = queries()
    for name in named:
        timings[name] = []
    # One untimed round first: a dashboard is read again and again, so the
    # steady state (warm caches) is what its users see.
    for round_number in range(rounds + 1):
        for name, run in [("SELECT 1 (baseline)", baseline), *named.items()]:
            started = time.perf_counter()
            result = run()
            if hasattr(result, "__iter__") and not isinstance(result, (str, bytes)):
                list(result)
            if round_number:
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--logs", type=int, default=10_000_000)
    parser.add_argument("--summaries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    reset_database(os.environ["BENCH_DB_NAME"])
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
        started = time.monotonic()
        load(args.logs, args.summaries)
        seconds = time.monotonic() - started
        print(f"loaded {args.logs:,} logs and ~{args.summaries:,} summaries in {seconds:.0f}s")
        timings = measure(args.rounds)
    finally:
        if not args.keep_db:
            drop_database(os.environ["BENCH_DB_NAME"])
    figures = {
        name: {"p50_ms": statistics.median(values), "p95_ms": p(values, 95)}
        for name, values in timings.items()
    }
    if args.json:
        Path(args.json).write_text(
            json.dumps({"logs": args.logs, "summaries": args.summaries, "queries": figures})
        )
    print("\n| query | p50 ms | p95 ms | p95 / 100 ms goal | goal |\n|---|---|---|---|---|")
    for name, values in timings.items():
        p95 = p(values, 95)
        met = "" if name.startswith("SELECT") else ("met" if p95 < 100 else "NOT met")
        print(
            f"| {name} | {statistics.median(values):.1f} | {p95:.1f} | {p95 / 100:.2f}x | {met} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
