"""The demo's prebuilt database: what ``migrate`` makes on a new SQLite file, as SQL.

Wagtail brings over 200 migrations; running them on a new SQLite file takes
15 to 30 seconds, loading their result takes well under one. ``schema.sql``
beside this module holds that result (tables, indexes, triggers and the rows
the migrations insert), made by ``make demo-schema``
(``python example/manage.py demo_schema``).

It cannot go stale silently:

- its header records a SHA-256 of every migration file of this repository
  (djinsight's and the demo apps'); if one of them changed or went away, the
  prebuilt file is not used and every migration runs instead;
- a migration it records as applied that the installed packages do not have
  (say it was made with a newer Wagtail than the one installed) also means
  "run every migration";
- migrations newer than the file (a new Wagtail release, a new migration here)
  are simply applied by the ``migrate`` that always follows the load;
- ``tests/test_demo.py`` fails while the file is behind this repository's
  migrations, and checks that load + ``migrate`` gives the same database as
  ``migrate`` alone.

Each case prints what happened and, when it matters, ``make demo-schema``.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_SQL = Path(__file__).resolve().with_name("schema.sql")
EXAMPLE_DIR = SCHEMA_SQL.parent.parent
OWN_SOURCES = (EXAMPLE_DIR, EXAMPLE_DIR.parent / "src")  # migrations whose content we hash
REFRESH = "make demo-schema"

# Rows that djinsight's post_migrate hook makes (its Celery beat entries): left
# out, so the migrate after the load makes them from the current code.
SKIP_ROWS_PREFIXES = ("django_celery_beat_",)
# django_migrations.applied: a constant in the file, the load time in a database.
APPLIED_PLACEHOLDER = "2000-01-01 00:00:00"
HEADER_MIGRATION = re.compile(r"^-- migration (\S+)\.(\S+) sha256=([0-9a-f]{64})$")


@dataclass
class Verdict:
    """Whether the prebuilt file can be used, and what to tell the user."""

    usable: bool
    problems: list[str] = field(default_factory=list)
    newer: list[str] = field(default_factory=list)  # this repository's migrations not in the file


def _own(app_path: str) -> bool:
    path = Path(app_path).resolve()
    return any(path.is_relative_to(source) for source in OWN_SOURCES)


def own_migrations() -> dict[tuple[str, str], str]:
    """(app_label, name) → SHA-256 of the file, for this repository's migrations on disk."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    hashes = {}
    for (app_label, name), migration in loader.disk_migrations.items():
        if not _own(apps.get_app_config(app_label).path):
            continue
        source = Path(sys.modules[migration.__module__].__file__)
        hashes[app_label, name] = hashlib.sha256(source.read_bytes()).hexdigest()
    return hashes


def recorded_migrations(sql_path: Path = SCHEMA_SQL) -> dict[tuple[str, str], str]:
    """The hashes of this repository's migrations that the file was made from."""
    recorded = {}
    with open(sql_path, encoding="utf-8") as sql:
        for line in sql:
            if not line.startswith("--"):
                break
            if match := HEADER_MIGRATION.match(line.rstrip("\n")):
                recorded[match[1], match[2]] = match[3]
    return recorded


def check(sql_path: Path = SCHEMA_SQL) -> Verdict:
    """Compare the file's header with this repository's migrations (no database needed)."""
    if not sql_path.exists():
        return Verdict(False, [f"{sql_path.name} is missing"])
    recorded, on_disk = recorded_migrations(sql_path), own_migrations()
    problems = [
        f"{app}.{name} {'changed' if (app, name) in on_disk else 'is gone'}"
        for (app, name), digest in sorted(recorded.items())
        if on_disk.get((app, name)) != digest
    ]
    newer = [f"{app}.{name}" for app, name in sorted(on_disk.keys() - recorded.keys())]
    return Verdict(not problems, problems, newer)


def unknown_applied(connection) -> list[str]:
    """Migrations the database records as applied that no installed app has.

    They mean the file was made with newer packages than these: its tables may
    have columns this code does not fill.
    """
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces or ())
    return sorted(f"{app}.{name}" for app, name in set(loader.applied_migrations) - known)


def pending(connection) -> list[str]:
    """The migrations ``migrate`` would still apply to this database."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def load(db_path: Path, sql_path: Path = SCHEMA_SQL) -> None:
    """Run the file into a new database, in one transaction: all of it or nothing."""
    from django.utils import timezone

    script = sql_path.read_text(encoding="utf-8")
    applied = timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.executescript(
            "BEGIN;\n" + script + f"\nUPDATE django_migrations SET applied = '{applied}';\nCOMMIT;"
        )
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()


def dump(db_path: Path) -> str:
    """The SQL that recreates ``db_path``: tables, rows, indexes, triggers, in name order."""
    db = sqlite3.connect(db_path)
    try:
        objects = db.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        virtual = [name for kind, name, sql in objects if sql.upper().startswith("CREATE VIRTUAL")]
        # the shadow tables of a virtual (FTS5) table are made by its CREATE VIRTUAL TABLE
        shadow = {
            name for _, name, _ in objects if any(name.startswith(f"{table}_") for table in virtual)
        }
        lines = []
        tables = [name for kind, name, sql in objects if kind == "table" and name not in shadow]
        lines += [f"{sql};" for kind, name, sql in objects if kind == "table" and name in tables]
        for table in tables:
            if table.startswith(SKIP_ROWS_PREFIXES) or table in virtual:
                continue
            lines += _rows(db, table)
        sequences = [
            (name, seq)
            for name, seq in db.execute("SELECT name, seq FROM sqlite_sequence ORDER BY name")
            if not name.startswith(SKIP_ROWS_PREFIXES)
        ]
        if sequences:
            lines.append("DELETE FROM sqlite_sequence;")
            lines += [f"INSERT INTO sqlite_sequence VALUES({_q(n)},{s});" for n, s in sequences]
        for kind in ("index", "trigger", "view"):
            lines += [f"{sql};" for k, name, sql in objects if k == kind and name not in shadow]
    finally:
        db.close()
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rows(db: sqlite3.Connection, table: str) -> list[str]:
    columns = [row[1] for row in db.execute(f"PRAGMA table_info({_q(table)})")]
    quoted = " || ',' || ".join(f'quote("{c}")' for c in columns)
    if table == "django_migrations":
        quoted = quoted.replace('quote("applied")', _q(_q(APPLIED_PLACEHOLDER)))
    query = f'SELECT {quoted} FROM "{table}" ORDER BY rowid'  # noqa: S608 - names from the schema
    return [f'INSERT INTO "{table}" VALUES({values});' for (values,) in db.execute(query)]


def header(hashes: dict[tuple[str, str], str]) -> str:
    import django
    import wagtail

    lines = [
        "-- The demo's database as `migrate` makes it on a new SQLite file, loaded by",
        "-- example/run_demo.py instead of running every migration (see demo_site/schema.py).",
        f"-- Generated by `{REFRESH}`; do not edit. "
        f"Made with Django {django.__version__}, Wagtail {wagtail.__version__}.",
    ]
    lines += [
        f"-- migration {app}.{name} sha256={hexdigest}"
        for (app, name), hexdigest in sorted(hashes.items())
    ]
    return "\n".join(lines) + "\n"


def build(sql_path: Path = SCHEMA_SQL) -> str:
    """Migrate a new SQLite file, in a temporary directory, and write it out as ``sql_path``.

    Swaps the default database's NAME the way Django's test runner does, so
    the demo's own database is never opened.
    """
    import tempfile

    from django.core.management import call_command
    from django.db import connection

    with tempfile.TemporaryDirectory(prefix="djinsight-schema-") as tmp:
        db_path = Path(tmp) / "db.sqlite3"
        connection.close()
        original = connection.settings_dict["NAME"]
        connection.settings_dict["NAME"] = db_path
        try:
            call_command("migrate", verbosity=0, interactive=False)
        finally:
            connection.close()
            connection.settings_dict["NAME"] = original
        text = header(own_migrations()) + dump(db_path)
    sql_path.write_text(text, encoding="utf-8")
    return text
