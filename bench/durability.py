"""Redis durability: views answered 204 against views stored after Redis crashes.

    make bench BENCH_ARGS="--only durability"
    .venv/bin/python bench/durability.py                       # about 2 minutes
    .venv/bin/python bench/durability.py --policies always --seconds 20

For each persistence setting: a private redis-server (tests/redis_crash.py), client
processes answering beacons through djinsight's WSGI fast path for ``--seconds``, then
a crash, a restart on the same files, views of other objects after the restart, and
``process_pageviews`` into PostgreSQL (its own database, dropped afterwards). Two
crashes: ``SIGKILL`` (a process crash: the kernel keeps what Redis wrote) and, for the
AOF settings, ``power loss`` (SIGKILL, then each AOF file cut back to its last fsync).

No flush runs during the load (DJINSIGHT_FLUSH_INTERVAL is 60 s by default), so every
view is only in Redis when it dies: "lost" is the most that crash can take. "window"
is how long before the crash the oldest lost view was answered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
from tests.redis_crash import (  # noqa: E402
    PERSISTENCE,
    Clients,
    CrashableRedis,
    answer_beacons,
)

from bench.run import (  # noqa: E402 - after the path is set
    WORK,
    database_defaults,
    drop_database,
    reset_database,
    setup_django,
)

# (setting, crash): a power loss keeps an RDB snapshot whole (written, fsynced, renamed)
RUNS = {
    "none": ("SIGKILL",),
    "rdb": ("SIGKILL",),
    "no": ("SIGKILL", "power loss"),
    "everysec": ("SIGKILL", "power loss"),
    "always": ("SIGKILL", "power loss"),
}
LABELS = {
    "none": "no persistence",
    "rdb": "RDB, save 5 1",
    "no": "AOF, appendfsync no",
    "everysec": "AOF, appendfsync everysec",
    "always": "AOF, appendfsync always",
}
BEFORE, AFTER = 20, 5  # objects viewed before the crash, and after the restart


def reset_tables() -> None:
    from django.apps import apps
    from django.db import connection

    from bench.benchapp.models import Item

    tables = [m._meta.db_table for m in apps.get_app_config("djinsight").get_models()]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    Item.objects.update(total_views=0, unique_views=0, first_viewed_at=None, last_viewed_at=None)


def stored(items: list) -> dict:
    from django.db.models import Sum

    from bench.benchapp.models import Item
    from djinsight.models import PageViewLog, PageViewSummary

    paths = list(PageViewLog.objects.values_list("path", flat=True))
    return {
        "column": Item.objects.aggregate(n=Sum("total_views"))["n"] or 0,
        "summaries": PageViewSummary.objects.aggregate(n=Sum("total_views"))["n"] or 0,
        "paths": set(paths),
        "logs": len(paths),
        "per_item": dict(
            Item.objects.filter(pk__in=[i.pk for i in items]).values_list("pk", "total_views")
        ),
    }


def run_one(policy: str, crash: str, ns, items: list, refs: dict) -> dict:
    """One load, crash, restart and flush; the figures of one table row."""
    from django.test import override_settings

    from djinsight.pipeline.flush import process_pageviews
    from djinsight.store.client import reset_clients

    reset_tables()
    before, after = items[:BEFORE], items[BEFORE:]
    with tempfile.TemporaryDirectory(prefix="djinsight-durability-") as directory:
        server = CrashableRedis(Path(directory), *PERSISTENCE[policy])
        server.start()
        try:
            with override_settings(DJINSIGHT_REDIS_URL=server.url):
                reset_clients()
                with Clients(
                    [refs[i.pk] for i in before], "a", server.url, ns.clients, dict(os.environ)
                ) as load:
                    started = load.go()
                    time.sleep(ns.seconds)
                    server.kill()
                    killed = time.time()
                    answered = load.stop()
                dropped = server.lose_power() if crash == "power loss" else 0
                restart = time.monotonic()
                server.start()
                restart = time.monotonic() - restart
                later = answer_beacons([refs[i.pk] for i in after], ns.after_views, "b")
                flushed = process_pageviews(batch_size=5000)
                figures = stored(after)
        finally:
            server.stop()
            reset_clients()
    lost = [killed - answered.at[p] for p in answered.at.keys() - figures["paths"]]
    pks = {refs[i.pk]: i.pk for i in after}
    after_exact = later.at.keys() <= figures["paths"] and figures["per_item"] == {
        pk: later.by_ref.get(ref, 0) for ref, pk in pks.items()
    }
    consistent = figures["column"] == figures["summaries"] == figures["logs"] == flushed.views
    return {
        "policy": policy,
        "label": LABELS[policy],
        "crash": crash,
        "answered": len(answered.at),
        "views_per_s": len(answered.at) / (killed - started),
        "stored": figures["logs"] - len(later.at),
        "column": figures["column"] - len(later.at),
        "summaries": figures["summaries"] - len(later.at),
        "lost": len(lost),
        "lost_pct": 100 * len(lost) / max(len(answered.at), 1),
        "window_s": max(lost, default=0.0),
        "unanswered_kept": len(figures["paths"] - answered.at.keys() - later.at.keys()),
        "aof_bytes_dropped": dropped,
        "restart_s": restart,
        "after_restart": {"answered": len(later.at), "exact": after_exact},
        "consistent": consistent,
    }


def table(rows: list[dict]) -> str:
    header = (
        "setting",
        "crash",
        "views answered 204",
        "views/s",
        "views stored (column / summaries / logs)",
        "lost",
        "lost %",
        "window",
        "after restart",
    )
    lines = [header]
    for r in rows:
        lines.append(
            (
                LABELS[r["policy"]],
                r["crash"],
                f"{r['answered']:,}",
                f"{r['views_per_s']:,.0f}",
                f"{r['column']:,} / {r['summaries']:,} / {r['stored']:,}",
                f"{r['lost']:,}",
                f"{r['lost_pct']:.1f}%",
                f"{r['window_s']:.2f} s" if r["lost"] else "",
                "exact" if r["after_restart"]["exact"] and r["consistent"] else "NOT exact",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--policies", default=",".join(RUNS), help="comma-separated settings")
    parser.add_argument("--seconds", type=float, default=8, help="load before the crash")
    parser.add_argument("--clients", type=int, default=4, help="beacon client processes")
    parser.add_argument("--after-views", type=int, default=500, help="views after the restart")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--keep-db", action="store_true")
    ns = parser.parse_args()
    policies = ns.policies.split(",")
    unknown = set(policies) - set(RUNS)
    if unknown:
        parser.error(f"unknown --policies {sorted(unknown)}; choose from {', '.join(RUNS)}")
    name = database_defaults("djinsight_bench_durability")
    os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{ROOT / 'src'}"  # for the clients
    reset_database(name)
    rows = []
    try:
        setup_django(BEFORE + AFTER)
        from bench.benchapp.models import Item
        from djinsight.tracking.references import sign

        items = list(Item.objects.order_by("pk"))
        refs = {item.pk: sign(item) for item in items}
        for policy in policies:
            for crash in RUNS[policy]:
                started = time.monotonic()
                rows.append(run_one(policy, crash, ns, items, refs))
                r = rows[-1]
                print(
                    f"{LABELS[policy]}, {crash}: {r['answered']:,} answered 204, "
                    f"{r['lost']:,} lost ({r['lost_pct']:.1f}%) in "
                    f"{time.monotonic() - started:.0f}s",
                    flush=True,
                )
    finally:
        if not ns.keep_db:
            drop_database(name)
    text = table(rows)
    print()
    print(f"{ns.clients} clients, {ns.seconds:g} s of load before each crash")
    print(text)
    if ns.json:
        Path(ns.json).write_text(json.dumps({"rows": rows, "table": text}, indent=2))
    else:
        WORK.mkdir(exist_ok=True)
        (WORK / "durability.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
