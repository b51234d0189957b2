#!/usr/bin/env python
"""djinsight benchmarks: one command, ratios to a baseline measured in the same run.

    make bench                      # full scale (about 8-10 minutes on 2 cores)
    make bench BENCH_ARGS=--quick   # CI scale (under 2 minutes)
    make bench BENCH_ARGS="--only durability"   # Redis crashes (bench/durability.py, ~2 min)

Starts its own redis-server and gunicorn on 127.0.0.1 and its own PostgreSQL
database (dropped and recreated each run), runs baseline and contender
interleaved (A B, B A, ...), prints a table of medians and ratios, writes
.bench/results.json and .bench/results.md, and stops everything it started.
See docs/performance.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = ROOT / ".bench"
PY = sys.executable
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
from tests.servers import free_port, redis_server_command  # noqa: E402 - after the path is set

FLOOR_REFERENCE = 5500  # req/s the issue measured for the bare view; context only
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def wait_until(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout}s")


class Processes:
    """Everything this run started, stopped on the way out whatever happens."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, **kwargs)
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.running)):
            self.stop(proc)


# --------------------------------------------------------------------------- services


def start_redis(procs: Processes, port: int, dbfile: str = "dump.rdb") -> subprocess.Popen:
    """A throwaway redis-server: no persistence, loopback only, nobody else's keys."""
    import redis

    directory = WORK / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    if dbfile == "dump.rdb":  # a fresh server starts empty, whatever an earlier run saved
        (directory / dbfile).unlink(missing_ok=True)
    proc = procs.start(
        redis_server_command(
            port, "--dir", str(directory), "--dbfilename", dbfile, "--protected-mode", "yes"
        ),
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    wait_until(client.ping, "redis-server")
    return proc


def database_defaults(name: str) -> str:
    """Environment defaults (bench/settings.py) for a benchmark with its own
    PostgreSQL database; the database name in use."""
    for key, value in {
        "BENCH_DB_NAME": name,
        "BENCH_DB_HOST": "127.0.0.1",
        "BENCH_DB_PORT": "5432",
        "BENCH_DB_USER": "postgres",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
    }.items():
        os.environ.setdefault(key, value)
    return os.environ["BENCH_DB_NAME"]


def reset_database(name: str) -> None:
    import psycopg

    with psycopg.connect(
        host=os.environ["BENCH_DB_HOST"],
        port=os.environ["BENCH_DB_PORT"],
        user=os.environ["BENCH_DB_USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(
        host=os.environ["BENCH_DB_HOST"],
        port=os.environ["BENCH_DB_PORT"],
        user=os.environ["BENCH_DB_USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(objects: int) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    django.setup()
    from django.core.management import call_command

    from bench.benchapp.models import Item

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    Item.objects.bulk_create(
        [Item(pk=i, title=f"Item {i}") for i in range(1, objects + 1)], batch_size=5000
    )


def start_gunicorn(procs: Processes, port: int) -> subprocess.Popen:
    proc = procs.start(
        [
            PY,
            "-m",
            "gunicorn",
            "bench.wsgi:application",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT),
        ],
        env=dict(os.environ),
    )

    def up() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/floor/", timeout=2) as r:
            return r.status == 204

    wait_until(up, "gunicorn")
    return proc


# --------------------------------------------------------------------------- load


def wrk(url: str, script: str, args: list[str], duration: float, connections: int) -> dict:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{int(duration)}s",
        "--timeout",
        "5s",
        "-s",
        str(BENCH / script),
        url,
        "--",
        *args,
    ]
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if out.returncode:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    for line in out.stdout.splitlines():
        if line.startswith("BENCH "):
            result = json.loads(line[6:])
            seconds = result["duration_us"] / 1e6
            result["ok"] = result["requests"] - result["status_errors"]
            result["rps"] = result["ok"] / seconds
            return result
    raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")


def interleave(variants: dict, rounds: int) -> dict[str, list[dict]]:
    """Run every variant once per round, reversing the order every other round."""
    names = list(variants)
    results: dict[str, list[dict]] = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            result = variants[name](r)
            results[name].append(result)
            log(
                f"  round {r + 1} {name:<10} {result['rps']:8.0f} req/s  "
                f"p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms  "
                f"non-2xx {result['status_errors']}"
            )
    return results


def _median_ratio(runs: list[dict], base: list[dict], figure: str) -> float:
    return statistics.median(r[figure] / b[figure] for r, b in zip(runs, base, strict=True))


def summary(results: dict[str, list[dict]], floor: str = "floor") -> dict:
    """Medians per variant, and medians of the per-round ratios to the floor."""
    base = results[floor]
    out = {}
    for name, runs in results.items():
        out[name] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
            # interleave() gives every variant one result per round
            "rps_ratio": _median_ratio(runs, base, "rps"),
            "p50_ratio": _median_ratio(runs, base, "p50_us"),
            "p99_ratio": _median_ratio(runs, base, "p99_us"),
            "non_2xx": sum(r["status_errors"] for r in runs),
            "socket_errors": sum(
                r["connect"] + r["read"] + r["write"] + r["timeout"] for r in runs
            ),
            "rounds": len(runs),
        }
    return out


@contextmanager
def count_calls():
    """Counts SQL queries and Redis round trips (one per packed send) in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from redis.connection import AbstractConnection

    counts = {"redis": 0}
    original = AbstractConnection.send_packed_command

    def counting(self, *args, **kwargs):
        counts["redis"] += 1
        return original(self, *args, **kwargs)

    AbstractConnection.send_packed_command = counting
    try:
        with CaptureQueriesContext(connection) as queries:
            yield counts
        counts["sql"] = len(queries.captured_queries)
    finally:
        AbstractConnection.send_packed_command = original


# --------------------------------------------------------------------------- sections


def bench_record(ns, port: int, results: dict) -> None:
    from django.test import Client

    from bench.benchapp.models import Item
    from djinsight.pipeline.flush import process_pageviews
    from djinsight.tracking.references import sign

    refs = [sign(item) for item in Item.objects.order_by("pk")[: ns.record_objects]]
    refs_file = WORK / "refs.txt"
    refs_file.write_text("\n".join(refs) + "\n")
    url = f"http://127.0.0.1:{port}"
    paths = {"floor": "/floor/", "djinsight": "/djinsight/record/"}
    if ns.fastpath:
        paths["fastpath"] = (
            "/djinsight/record/?fast"  # bench/wsgi.py routes "?fast" via the fast path
        )
    counted = {"ok": 0, "runs": 0}
    runs = iter(range(1, 10_000))

    def variant(name: str):
        def run(_round: int) -> dict:
            result = wrk(
                url,
                "beacon.lua",
                [paths[name], str(next(runs)), str(refs_file)],
                ns.duration,
                ns.connections,
            )
            if name != "floor":
                counted["ok"] += result["ok"]
                counted["runs"] += 1
            return result

        return run

    log(f"record endpoint: warm-up, then {ns.rounds} interleaved rounds of {ns.duration}s")
    for name in paths:
        variant(name)(0)
    measured = interleave({name: variant(name) for name in paths}, ns.rounds)
    results["record"] = summary(measured)

    # Per-view cost, in process: one beacon through the full middleware stack.
    client = Client(HTTP_X_FORWARDED_FOR="192.0.2.10", HTTP_USER_AGENT="bench")
    body = json.dumps({"ref": refs[0], "url": "/a/"})
    client.post("/djinsight/record/", body, content_type="text/plain")  # loads the script
    with count_calls() as calls:
        status = client.post("/djinsight/record/", body, content_type="text/plain").status_code
    counted["ok"] += 2
    results["record_calls"] = {"status": status, "sql": calls["sql"], "redis": calls["redis"]}
    if ns.fastpath:
        results["fastpath_calls"] = fastpath_calls(body)
        counted["ok"] += 2

    # Correctness: flush everything, then compare stored counts with the 2xx answers.
    process_pageviews(batch_size=5000)
    from django.db.models import Sum

    stored = Item.objects.aggregate(n=Sum("total_views"))["n"] or 0
    slack = counted["runs"] * ns.connections  # requests in flight when wrk stopped counting
    results["record_correctness"] = {
        "answered_2xx": counted["ok"],
        "stored": stored,
        "in_flight_allowance": slack,
        "ok": counted["ok"] <= stored <= counted["ok"] + slack,
    }
    log(
        f"  correctness: {counted['ok']} views answered 2xx, {stored} stored after flush "
        f"(allowance for in-flight: {slack})"
    )


def fastpath_calls(body: str) -> dict:
    """SQL queries and Redis round trips of one beacon through the WSGI fast path, in process.

    The fast path is ``djinsight.fastpath``.
    """
    import io
    from wsgiref.util import setup_testing_defaults

    from django.core.handlers.wsgi import WSGIHandler

    from djinsight.fastpath import BeaconMiddleware

    app = BeaconMiddleware(WSGIHandler())
    statuses = []

    def post() -> None:
        data = body.encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/djinsight/record/",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "192.0.2.11",
            "HTTP_USER_AGENT": "bench",
            "CONTENT_TYPE": "text/plain",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
        }
        setup_testing_defaults(environ)
        app(environ, lambda status, headers, exc_info=None: statuses.append(int(status.split()[0])))

    post()  # resolves the beacon path
    with count_calls() as calls:
        post()
    return {"status": statuses[-1], "sql": calls["sql"], "redis": calls["redis"]}


def bench_live(ns, port: int, results: dict) -> None:
    from django.test import Client
    from django.utils import timezone

    from bench.benchapp.models import Item
    from djinsight.tracking.references import sign

    items = list(Item.objects.order_by("pk")[: ns.record_objects])
    # Steady state: every object shown has been viewed and flushed, so Redis holds its counters.
    from djinsight.pipeline.flush import process_pageviews
    from djinsight.store import buffer
    from djinsight.store.keys import ObjectName

    now = timezone.now()
    for item in items:
        buffer.record_view(
            buffer.View(
                ObjectName.of(item),
                "cbench-seed",
                int(now.timestamp() * 1000),
                timezone.localdate(now),
                path="/seed/",
            )
        )
    process_pageviews(batch_size=5000)
    pages = []
    for start in range(0, len(items) - 19, 20):
        query = urllib.parse.urlencode([("ref", sign(item)) for item in items[start : start + 20]])
        pages.append(f"/djinsight/live/?{query}")
    pages_file = WORK / "live-pages.txt"
    pages_file.write_text("\n".join(pages) + "\n")
    floor_file = WORK / "floor-pages.txt"
    floor_file.write_text("/floor/\n")
    url = f"http://127.0.0.1:{port}"
    log(f"live reads (20 objects per page): {ns.rounds} interleaved rounds of {ns.duration}s")
    variants = {
        "floor": lambda r: wrk(
            url, "get.lua", [str(floor_file), str(r)], ns.duration, ns.connections
        ),
        "live": lambda r: wrk(
            url, "get.lua", [str(pages_file), str(r)], ns.duration, ns.connections
        ),
    }
    for run in variants.values():
        run(0)
    results["live"] = summary(interleave(variants, ns.rounds))
    client = Client()
    client.get(pages[0])
    with count_calls() as calls:
        response = client.get(pages[1])
    results["live_calls"] = {
        "status": response.status_code,
        "sql": calls["sql"],
        "redis": calls["redis"],
        "objects": len(response.json()["stats"]),
        "endpoint": "djinsight:live (GET, 20 refs)",
    }


def redis_info(client) -> dict:
    info = client.info()
    return {"used_memory": info["used_memory"], "cpu": info["used_cpu_user"] + info["used_cpu_sys"]}


def reset_store(client) -> None:
    from django.db import connection

    from bench.benchapp.models import Item

    client.flushall()  # our own throwaway redis-server, nobody else's
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE djinsight_pageviewlog, djinsight_pageviewsummary, djinsight_flushledger"
        )
    Item.objects.update(total_views=0, unique_views=0, first_viewed_at=None, last_viewed_at=None)


def bench_flush(ns, procs: Processes, redis_state: dict, results: dict) -> None:
    """Load the buffer once and flush it with raw logs on; restore it, flush with them off."""
    import redis as redis_lib
    from django.db.models import Sum

    from bench.benchapp.models import Item
    from bench.load import load_views
    from djinsight.models import PageViewLog, PageViewSummary
    from djinsight.store.client import get_redis, reset_clients
    from djinsight.store.keys import Keys

    redis_port = redis_state["port"]
    client = redis_lib.Redis(host="127.0.0.1", port=redis_port)
    rdb = WORK / "redis" / "dump.rdb"
    pks = list(range(1, ns.objects + 1))
    results["flush"] = {}
    for raw in (True, False):
        tag = "raw_logs_on" if raw else "raw_logs_off"
        reset_store(client)
        if raw:
            client.config_resetstat()
            before = redis_info(client)
            log(f"flush ({tag}): loading {ns.views:,} views over {ns.objects:,} objects")
            loaded = load_views(
                "benchapp.item", pks, ns.views, seed=7, deadline=ns.max_load_seconds
            )
            after = redis_info(client)
            client.save()
            shutil.copyfile(rdb, rdb.with_name("loaded.rdb"))
        else:
            log(f"flush ({tag}): restoring the same {ns.views:,} buffered views")
            procs.stop(redis_state["proc"])
            redis_state["proc"] = start_redis(procs, redis_port, "loaded.rdb")
            reset_clients()
            client = redis_lib.Redis(host="127.0.0.1", port=redis_port)
        evalsha = client.info("commandstats").get("cmdstat_evalsha", {})
        streams = [Keys(s).stream for s in range(4)]
        stream_bytes = sum(client.memory_usage(k, samples=0) or 0 for k in streams)
        stream_len = sum(client.xlen(k) for k in streams)
        if raw:
            if loaded["views"] < ns.views:
                log(
                    f"  load budget ({ns.max_load_seconds}s) spent: "
                    f"{loaded['views']:,} views buffered"
                )
                ns.views = loaded["views"]
            rate = loaded["views"] / loaded["seconds"]
            log(
                f"  loaded in {loaded['seconds']:.1f}s ({rate:,.0f} views/s "
                f"client-side); Redis used {after['cpu'] - before['cpu']:.1f} CPU-s"
            )
        env = dict(os.environ, BENCH_RAW_LOGS="1" if raw else "0")
        flushed = run_flushers(ns, env, tag)
        stored = Item.objects.aggregate(n=Sum("total_views"))["n"] or 0
        summed = PageViewSummary.objects.aggregate(n=Sum("total_views"))["n"] or 0
        logs = PageViewLog.objects.count()
        flushed.update(
            stored=stored,
            summaries=summed,
            logs=logs,
            left=sum(client.xlen(k) for k in streams),
            ok=stored == summed == flushed["views"]
            and logs == (flushed["views"] if raw else 0)
            and flushed["views"] + sum(client.xlen(k) for k in streams) == ns.views,
        )
        results["flush"][tag] = flushed
        log(
            f"  flushed {flushed['views']:,} views in {flushed['seconds']:.1f}s = "
            f"{flushed['views_per_s']:,.0f} views/s with {ns.flushers} flushers "
            f"({flushed['views_per_cpu_s']:,.0f} per flusher CPU-s), "
            f"peak RSS {flushed['peak_rss_kib'] / 1024:.0f} MiB"
            f"; stored {stored:,}, summaries {summed:,}, logs {logs:,}"
        )
        if raw:
            # Memory: the buffered views, then what stays once they are flushed.
            flushed_info = redis_info(client)
            marks = 0
            prefix = os.environ["BENCH_PREFIX"]
            batch = []
            for key in client.scan_iter(match=f"{prefix}session:*", count=5000):
                batch.append(key)
                if len(batch) >= 5000:
                    marks += client.delete(*batch)
                    batch = []
            if batch:
                marks += client.delete(*batch)
            no_marks = redis_info(client)
            tracked = client.zcard(Keys(0).objects) + sum(
                client.zcard(Keys(s).objects) for s in range(1, 4)
            )
            calls = evalsha.get("calls", 0)
            results["redis"] = {
                "views": ns.views,
                "objects": tracked,
                "unique_marks": marks,
                "script_usec_per_call": evalsha.get("usec_per_call"),
                "script_capacity_views_per_s": 1e6 / evalsha["usec_per_call"] if calls else None,
                "redis_cpu_s": after["cpu"] - before["cpu"],
                "cpu_capacity_views_per_s": ns.views / max(after["cpu"] - before["cpu"], 1e-9),
                "client_views_per_s": ns.views / loaded["seconds"],
                # a flush cut short by its budget leaves entries behind: count only the flushed ones
                "bytes_per_buffered_view": (after["used_memory"] - flushed_info["used_memory"])
                / max(flushed["views"], 1),
                "bytes_per_view_all_in": (after["used_memory"] - before["used_memory"]) / ns.views,
                "stream_bytes_per_entry": stream_bytes / max(stream_len, 1),
                "bytes_per_unique_mark": (flushed_info["used_memory"] - no_marks["used_memory"])
                / max(marks, 1),
                "bytes_per_object": (
                    no_marks["used_memory"]
                    - before["used_memory"]
                    - flushed["left"] * stream_bytes / max(stream_len, 1)
                )
                / max(tracked, 1),
            }
            r = results["redis"]
            log(
                f"  Redis: {r['script_usec_per_call']} us per record script = "
                f"{r['script_capacity_views_per_s']:,.0f} views/s per Redis core; "
                f"{r['bytes_per_buffered_view']:.0f} B per buffered view, "
                f"{r['bytes_per_unique_mark']:.0f} B per unique mark, "
                f"{r['bytes_per_object']:.0f} B per object"
            )
    get_redis().close()


def bench_visitors(ns, results: dict) -> None:
    """Redis memory that distinct visitors of one object leave for the day, stream aside.

    A mark each (DJINSIGHT_UNIQUE_EXACT_LIMIT above the visitors: the behaviour before
    the limit existed) against the default limit, in the same run on the same server.
    """
    from django.test import override_settings

    from bench.load import load_distinct_visitors
    from djinsight.conf import settings
    from djinsight.store.client import get_redis, reset_clients

    n = ns.visitors
    results["visitors"] = {"visitors": n}
    for tag, limit in (("marks_for_all", n + 1), ("default_limit", settings.UNIQUE_EXACT_LIMIT)):
        log(f"visitors: {n:,} new visitors of one object, DJINSIGHT_UNIQUE_EXACT_LIMIT={limit:,}")
        reset_clients()
        client = get_redis()
        client.flushall()  # our own throwaway redis-server
        # Redis 7 allocates a ~24 KB latency histogram per command at its first use:
        # both of the script's paths run once on another object before measuring.
        with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=1):
            load_distinct_visitors("benchapp.item", 2, 2)
        before = client.info("memory")["used_memory"]
        with override_settings(DJINSIGHT_UNIQUE_EXACT_LIMIT=limit):
            loaded = load_distinct_visitors("benchapp.item", 1, n)
            reset_clients()  # closes the loader's connection and its server-side buffers
            after = get_redis().info("memory")["used_memory"]
        results["visitors"][tag] = {
            "limit": limit,
            "bytes": after - before,
            "views_per_s": n / loaded["seconds"],
        }
        log(f"  {after - before:,} B in Redis ({n / loaded['seconds']:,.0f} views/s loaded)")
    reset_clients()


def bench_dashboard(ns, results: dict) -> None:
    """bench/dashboard_queries.py in its own process and database."""
    log(
        f"dashboard: loading {ns.logs:,} raw logs and {ns.summaries:,} summaries, "
        "then timing queries"
    )
    out_file = WORK / "dashboard.json"
    env = dict(os.environ, BENCH_DB_NAME="djinsight_bench_dashboard")
    out = subprocess.run(
        [
            PY,
            str(BENCH / "dashboard_queries.py"),
            "--logs",
            str(ns.logs),
            "--summaries",
            str(ns.summaries),
            "--json",
            str(out_file),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if out.returncode:
        raise RuntimeError(f"dashboard benchmark failed:\n{out.stderr}")
    results["dashboard"] = json.loads(out_file.read_text())
    for name, q in results["dashboard"]["queries"].items():
        log(f"  {name}: p50 {q['p50_ms']:.1f} ms, p95 {q['p95_ms']:.1f} ms")


def bench_durability(ns, results: dict) -> None:
    """bench/durability.py in its own process and database."""
    log("durability: Redis crashed under load for each persistence setting, then flushed")
    out_file = WORK / "durability.json"
    env = dict(os.environ, BENCH_DB_NAME="djinsight_bench_durability")
    command = [PY, str(BENCH / "durability.py"), "--json", str(out_file)]
    if ns.quick:
        command += ["--seconds", "3"]
    out = subprocess.run(  # noqa: S603 - our own script
        command, env=env, capture_output=True, text=True, check=False, timeout=1800
    )
    if out.returncode:
        raise RuntimeError(f"durability benchmark failed:\n{out.stdout}\n{out.stderr}")
    results["durability"] = json.loads(out_file.read_text())
    for line in results["durability"]["table"].splitlines():
        log(f"  {line}")


def run_flushers(ns, env: dict, tag: str) -> dict:
    """``ns.flushers`` flush processes at once, as Celery worker processes would run
    overlapping flush tasks on a backlog; SKIP LOCKED splits the shards between them."""
    procs = []
    start_at = time.time() + 5  # after every worker's Django setup
    for i in range(ns.flushers):
        command = [
            PY,
            str(BENCH / "flush_worker.py"),
            "--batch-size",
            str(ns.batch_size),
            "--expect",
            str(ns.views // ns.flushers),
            "--budget",
            str(ns.max_flush_seconds),
            "--start-at",
            str(start_at),
        ]
        if ns.profile:
            command += ["--profile", str(WORK / f"flush-{tag}-{i}.html")]
        procs.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    outputs = [proc.communicate(timeout=ns.max_flush_seconds + 120) for proc in procs]
    runs = []
    for i, (proc, (stdout, stderr)) in enumerate(zip(procs, outputs, strict=True)):
        if proc.returncode:
            raise RuntimeError(f"flush worker failed:\n{stderr}")
        if ns.profile:
            (WORK / f"flush-{tag}-{i}.txt").write_text(stderr)
        runs.append(json.loads(stdout.strip().splitlines()[-1]))
    views = sum(r["views"] for r in runs)
    seconds = max(r["seconds"] for r in runs)
    cpu = sum(r["cpu_seconds"] for r in runs)
    return {
        "flushers": ns.flushers,
        "views": views,
        "batches": sum(r["batches"] for r in runs),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "views_per_s": views / seconds if seconds else 0,
        "views_per_cpu_s": views / cpu if cpu else 0,
        "peak_rss_kib": max(r["peak_rss_kib"] for r in runs),
        "tenth_kib": max((r["tenth_kib"] or 0) for r in runs) or None,
    }


# --------------------------------------------------------------------------- report


def goal(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "NOT met")


def table(results: dict, ns) -> str:
    rows = [("Figure", "Baseline", "djinsight", "Ratio", "Goal", "Status")]
    rec = results.get("record")
    if rec:
        f, d = rec["floor"], rec["djinsight"]
        rows += [
            (
                "Record endpoint, req/s",
                f"{f['rps']:,.0f}",
                f"{d['rps']:,.0f}",
                f"{d['rps_ratio']:.2f}x",
                ">= 0.9x",
                goal(d["rps_ratio"] >= 0.9),
            ),
            (
                "Record endpoint, p50 latency",
                f"{f['p50_ms']:.2f} ms",
                f"{d['p50_ms']:.2f} ms",
                f"{d['p50_ratio']:.2f}x",
                "",
                "",
            ),
            (
                "Record endpoint, p99 latency",
                f"{f['p99_ms']:.2f} ms",
                f"{d['p99_ms']:.2f} ms",
                f"{d['p99_ratio']:.2f}x",
                "<= 1.3x",
                goal(d["p99_ratio"] <= 1.3),
            ),
        ]
        if "fastpath" in rec:
            p = rec["fastpath"]
            rows += [
                (
                    "Fast path (djinsight.fastpath), req/s",
                    f"{f['rps']:,.0f}",
                    f"{p['rps']:,.0f}",
                    f"{p['rps_ratio']:.2f}x",
                    ">= 1.5x",
                    goal(p["rps_ratio"] >= 1.5),
                ),
                (
                    "Fast path, p99 latency",
                    f"{f['p99_ms']:.2f} ms",
                    f"{p['p99_ms']:.2f} ms",
                    f"{p['p99_ratio']:.2f}x",
                    "",
                    "",
                ),
            ]
            fc = results.get("fastpath_calls")
            if fc:
                rows.append(
                    (
                        "Fast path: SQL queries / Redis round trips per view",
                        "",
                        f"{fc['sql']} / {fc['redis']}",
                        "",
                        "0 / 1",
                        goal(fc["sql"] == 0 and fc["redis"] == 1 and fc["status"] == 204),
                    )
                )
        c, calls = results["record_correctness"], results["record_calls"]
        rows += [
            (
                "Record: views stored after flush vs 2xx answered",
                f"{c['answered_2xx']:,}",
                f"{c['stored']:,}",
                f"+{c['stored'] - c['answered_2xx']}",
                f"0..+{c['in_flight_allowance']} in flight",
                goal(c["ok"]),
            ),
            (
                "Record: SQL queries / Redis round trips per view",
                "",
                f"{calls['sql']} / {calls['redis']}",
                "",
                "0 / 1",
                goal(calls["sql"] == 0 and calls["redis"] == 1 and calls["status"] == 204),
            ),
        ]
    fl = results.get("flush")
    if fl:
        for tag, label in (("raw_logs_on", "on"), ("raw_logs_off", "off")):
            x = fl[tag]
            rows.append(
                (
                    f"Flush Redis -> PostgreSQL, raw logs {label}, views/s",
                    "1,050 (earlier design)",
                    f"{x['views_per_s']:,.0f}",
                    f"{x['views_per_s'] / 1050:.1f}x",
                    ">= 50,000" if label == "on" else "",
                    goal(x["views_per_s"] >= 50_000) if label == "on" else "",
                )
            )
            rows.append(
                (
                    f"  same, views per CPU-second of the {x['flushers']} flusher processes",
                    "",
                    f"{x['views_per_cpu_s']:,.0f}",
                    "",
                    "",
                    "",
                )
            )
        on = fl["raw_logs_on"]
        rows.append(
            (
                "Flush peak RSS (after 1/10 of backlog -> end)",
                "",
                f"{(on['tenth_kib'] or 0) / 1024:.0f} -> {on['peak_rss_kib'] / 1024:.0f} MiB",
                "",
                "bounded",
                "",
            )
        )
        rows.append(
            (
                "Flush: stored = summaries = logs = flushed",
                f"{on['views']:,} of {ns.views:,}",
                f"{on['stored']:,} / {on['summaries']:,} / {on['logs']:,}",
                "",
                "equal",
                goal(on["ok"] and fl["raw_logs_off"]["ok"]),
            )
        )
    live = results.get("live")
    if live:
        f, d = live["floor"], live["live"]
        calls = results["live_calls"]
        rows += [
            (
                "Live reads, 20 objects/page, req/s",
                f"{f['rps']:,.0f}",
                f"{d['rps']:,.0f}",
                f"{d['rps_ratio']:.2f}x",
                "",
                "",
            ),
            (
                "Live reads, p99 latency",
                f"{f['p99_ms']:.2f} ms",
                f"{d['p99_ms']:.2f} ms",
                f"{d['p99_ratio']:.2f}x",
                "",
                "",
            ),
            (
                "Live reads: SQL queries / Redis round trips",
                "",
                f"{calls['sql']} / {calls['redis']}",
                "",
                "0 / 1",
                goal(calls["sql"] == 0 and calls["redis"] == 1 and calls["status"] == 200),
            ),
        ]
    r = results.get("redis")
    if r:
        rows += [
            (
                "Redis: record script capacity (server CPU), views/s",
                "200,000 (plain pipelined writes)",
                f"{r['script_capacity_views_per_s']:,.0f}",
                f"{r['script_capacity_views_per_s'] / 200_000:.2f}x",
                "",
                "",
            ),
            (
                "Redis: pipelined Python loader, views/s",
                "",
                f"{r['client_views_per_s']:,.0f}",
                "",
                "",
                "",
            ),
            (
                "Redis memory per buffered view (stream + pending)",
                "",
                f"{r['bytes_per_buffered_view']:.0f} B",
                "",
                "",
                "",
            ),
            (
                "Redis memory per unique-visitor mark (kept REDIS_EXPIRATION)",
                "",
                f"{r['bytes_per_unique_mark']:.0f} B",
                "",
                "",
                "",
            ),
            (
                "Redis memory per tracked object (counters, stats hash, day's visitors)",
                "",
                f"{r['bytes_per_object']:.0f} B",
                "",
                "",
                "",
            ),
        ]
    v = results.get("visitors")
    if v:
        old, new = v["marks_for_all"], v["default_limit"]
        rows.append(
            (
                f"Redis bytes per {v['visitors']:,} distinct visitors of one object a day "
                f"(a mark each / UNIQUE_EXACT_LIMIT={new['limit']:,})",
                f"{old['bytes']:,}",
                f"{new['bytes']:,}",
                f"{new['bytes'] / old['bytes']:.4f}x",
                "bounded",
                goal(new["bytes"] < new["limit"] * 200 + 128 * 1024),
            )
        )
    dash = results.get("dashboard")
    if dash:
        scale = f"{dash['logs']:,} logs / {dash['summaries']:,} summaries"
        base = dash["queries"]["SELECT 1 (baseline)"]
        rows.append(
            (
                f"Dashboard queries, PostgreSQL, {scale}: p50 / p95",
                "SELECT 1",
                f"{base['p50_ms']:.1f} / {base['p95_ms']:.1f} ms",
                "p95 / goal",
                "p95 < 100 ms",
                "",
            )
        )
        for name, q in dash["queries"].items():
            if name.startswith("SELECT 1"):
                continue
            rows.append(
                (
                    f"  {name}",
                    "",
                    f"{q['p50_ms']:.1f} / {q['p95_ms']:.1f} ms",
                    f"{q['p95_ms'] / 100:.2f}x",
                    "< 100 ms",
                    goal(q["p95_ms"] < 100),
                )
            )
    else:
        rows.append(("Dashboard queries", "", "skipped", "", "p95 < 100 ms", "not measured"))
    crashes = results.get("durability", {}).get("rows", [])
    for r in crashes:
        always = r["policy"] == "always"
        rows.append(
            (
                f"Redis crash ({r['label']}, {r['crash']}): views lost",
                f"{r['answered']:,} answered 204",
                f"{r['lost']:,} lost ({r['lost_pct']:.1f}%)",
                "",
                "0" if always else "",
                goal(r["lost"] == 0) if always else "",
            )
        )
    if crashes:
        exact = all(r["after_restart"]["exact"] and r["consistent"] for r in crashes)
        rows.append(
            ("Redis crash: views after the restart, flushed", "", "", "", "exact", goal(exact))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs ({model}); load average at start {load[0]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="CI scale: 100k views / 1k objects, short rounds"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (>= 3; default 3)")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 8, quick 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--views", type=int, help="buffered views for the flush (default 1,000,000)"
    )
    parser.add_argument("--objects", type=int, help="objects for the flush (default 10,000)")
    parser.add_argument(
        "--load-budget", type=float, help="seconds to fill the buffer (default 240)"
    )
    parser.add_argument("--flush-budget", type=float, help="seconds per flush pass (default 120)")
    parser.add_argument("--batch-size", type=int, default=20_000, help="flush batch size")
    parser.add_argument(
        "--flushers", type=int, default=2, help="flush processes at once (default 2, one per core)"
    )
    parser.add_argument(
        "--visitors",
        type=int,
        help="distinct visitors of one object for the memory figure (default 1,000,000)",
    )
    parser.add_argument(
        "--only",
        default="record,live,flush,visitors,dashboard",
        help="comma-separated sections: record, live, flush, visitors, dashboard, durability",
    )
    parser.add_argument(
        "--logs", type=int, help="raw log rows for the dashboard queries (default 10,000,000)"
    )
    parser.add_argument(
        "--summaries", type=int, help="summary rows for the dashboard queries (default 1,000,000)"
    )
    parser.add_argument("--no-fastpath", dest="fastpath", action="store_false")
    parser.add_argument(
        "--profile", action="store_true", help="profile the flush with pyinstrument"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the djinsight_bench database")
    ns = parser.parse_args()
    ns.rounds = max(3, ns.rounds or 3)
    ns.duration = ns.duration or (3 if ns.quick else 8)
    ns.views = ns.views or (100_000 if ns.quick else 1_000_000)
    ns.objects = ns.objects or (1_000 if ns.quick else 10_000)
    ns.record_objects = min(1000, ns.objects)
    ns.visitors = ns.visitors or (100_000 if ns.quick else 1_000_000)
    ns.logs = ns.logs or (1_000_000 if ns.quick else 10_000_000)
    ns.summaries = ns.summaries or (100_000 if ns.quick else 1_000_000)
    ns.max_load_seconds = ns.load_budget or (60 if ns.quick else 240)
    ns.max_flush_seconds = ns.flush_budget or (40 if ns.quick else 120)
    sections = set(ns.only.split(","))
    try:
        import djinsight.fastpath  # noqa: F401
    except ImportError:
        ns.fastpath = False

    for tool in ("wrk", "redis-server"):
        if not shutil.which(tool):
            print(f"bench: {tool} is missing (run `make system-deps` as root)", file=sys.stderr)
            return 2
    WORK.mkdir(exist_ok=True)
    db_name = database_defaults("djinsight_bench")
    os.environ.setdefault("BENCH_PREFIX", "djbench:")
    redis_port = free_port()
    os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    os.environ["BENCH_FASTPATH"] = "1" if ns.fastpath else "0"
    os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{ROOT / 'src'}"
    results: dict = {
        "machine": machine(),
        "args": sys.argv[1:],
        "scale": {
            "views": ns.views,
            "objects": ns.objects,
            "rounds": ns.rounds,
            "duration_s": ns.duration,
            "connections": ns.connections,
            "batch_size": ns.batch_size,
            "flushers": ns.flushers,
            "logs": ns.logs,
            "summaries": ns.summaries,
            "visitors": ns.visitors,
        },
    }
    log(f"machine: {results['machine']}")
    procs = Processes()
    try:
        redis_state = {"port": redis_port, "proc": start_redis(procs, redis_port)}
        reset_database(db_name)
        setup_django(max(ns.objects, ns.record_objects))
        if sections & {"record", "live"}:
            port = free_port()
            gunicorn = start_gunicorn(procs, port)
            if "record" in sections:
                bench_record(ns, port, results)
            if "live" in sections:
                bench_live(ns, port, results)
            procs.stop(gunicorn)
        if "flush" in sections:
            bench_flush(ns, procs, redis_state, results)
        if "visitors" in sections:
            bench_visitors(ns, results)
        if "dashboard" in sections:
            bench_dashboard(ns, results)
        if "durability" in sections:
            bench_durability(ns, results)
    finally:
        procs.stop_all()
        if not ns.keep_db:
            try:
                drop_database(db_name)
            except Exception as exc:  # noqa: BLE001
                log(f"could not drop {db_name}: {exc}")
    text = table(results, ns)
    results["table"] = text
    (WORK / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (WORK / "results.md").write_text(text + "\n")
    print()
    print(f"djinsight benchmarks - {results['machine']}; total {time.monotonic() - STARTED:.0f}s")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
