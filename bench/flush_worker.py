"""Time one ``process_pageviews`` run in a fresh process, so its peak RSS is the flush's.

Prints one JSON line: views, seconds, views/s, peak RSS and RSS after the first
tenth of the views (equal figures mean memory does not grow with the backlog).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--expect", type=int, default=0, help="views buffered (for the RSS sample)")
    parser.add_argument("--profile", help="write a pyinstrument HTML profile here")
    parser.add_argument("--budget", type=float, default=600, help="stop after this many seconds")
    parser.add_argument(
        "--start-at",
        type=float,
        default=0,
        help="wall-clock time to start at (flushers start together)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from djinsight.pipeline.flush import process_pageviews

    connection.ensure_connection()
    samples = {"start_kib": rss_kib(), "tenth_kib": None}

    def progress(shard: int, views: int) -> None:
        if samples["tenth_kib"] is None and args.expect and views >= args.expect // 10:
            samples["tenth_kib"] = rss_kib()

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    time.sleep(max(0.0, args.start_at - time.time()))
    started, cpu = time.perf_counter(), time.process_time()
    views = batches = 0
    skipped: list[int] = []
    # One batch per shard per call, so a time budget bounds the run whatever the backlog.
    while time.perf_counter() - started < args.budget:
        result = process_pageviews(batch_size=args.batch_size, max_batches=1)
        views, batches, skipped = (
            views + result.views,
            batches + result.batches,
            result.skipped_shards,
        )
        progress(0, views)
        if result.views == 0:
            break
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if profiler:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False), file=sys.stderr)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "views": views,
                "batches": batches,
                "skipped": skipped,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "views_per_s": views / seconds if seconds else 0,
                "views_per_cpu_s": views / cpu if cpu else 0,
                "peak_rss_kib": peak,
                **samples,
            }
        )
    )


if __name__ == "__main__":
    main()
