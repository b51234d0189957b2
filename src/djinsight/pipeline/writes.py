"""Set-based writes for the flush, one dialect per database vendor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import connection

from djinsight.store.buffer import ms_to_datetime

CHUNK = 500


def _chunks(rows: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _assignments(target: str, source: str) -> str:
    """SET clause adding ``v``'s figures; ``target``/``source`` qualify the table's columns."""
    least, greatest = ("MIN", "MAX") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")
    return ", ".join(
        [
            f"{target}total_views = {source}total_views + v.n",
            f"{target}unique_views = {source}unique_views + v.u",
            f"{target}first_viewed_at = {least}(COALESCE({source}first_viewed_at, v.f), v.f)",
            f"{target}last_viewed_at = {greatest}(COALESCE({source}last_viewed_at, v.l), v.l)",
        ]
    )


def _counter_sql(table: str, pk_col: str, pk_type: str, count: int) -> str:
    """MySQL and SQLite: the rows as a derived table of ``count`` placeholders."""
    if connection.vendor == "mysql":
        one = "SELECT %s AS pk, %s AS n, %s AS u, %s AS f, %s AS l"
        derived = " UNION ALL ".join([one] * count)
        return (
            f"UPDATE {table} t JOIN ({derived}) v ON t.{pk_col} = v.pk "
            f"SET {_assignments('t.', 't.')}"
        )
    values = ", ".join([f"(CAST(%s AS {pk_type}), %s, %s, %s, %s)"] * count)
    named = "SELECT column1 AS pk, column2 AS n, column3 AS u, column4 AS f, column5 AS l"
    # Starts with UPDATE: Python 3.11's sqlite3 counts no rows of a statement starting WITH.
    return (
        f"UPDATE {table} SET {_assignments('', '')} "
        f"FROM ({named} FROM (VALUES {values})) AS v WHERE {table}.{pk_col} = v.pk"
    )


def bump_counters(model, rows: Sequence[tuple]) -> int:
    """Add views to the mixin columns of ``model``; how many rows were updated.

    ``rows``: (pk, views, unique_views, first_viewed_at, last_viewed_at), one per
    pk. A row whose object was deleted updates nothing, so a count below
    ``len(rows)`` means some objects are gone.
    """
    qn = connection.ops.quote_name
    # Under multi-table inheritance the columns are in the parent's table,
    # whose primary key has the same values as the child's.
    model = model._meta.get_field("total_views").model
    pk_field = model._meta.pk
    table, pk_col = qn(model._meta.db_table), qn(pk_field.column)
    pk_type = pk_field.cast_db_type(connection)
    if connection.vendor == "postgresql":
        return _bump_counters_postgresql(table, pk_col, pk_type, pk_field, rows)
    updated = 0
    for chunk in _chunks(rows):
        params: list = []
        for pk, n, u, first, last in chunk:
            pk_value = pk_field.get_db_prep_value(pk, connection)
            params += [pk_value, n, u, _db_value(first), _db_value(last)]
        with connection.cursor() as cursor:
            cursor.execute(_counter_sql(table, pk_col, pk_type, len(chunk)), params)
            # Rows matched, on MySQL too: Django connects with CLIENT.FOUND_ROWS.
            updated += cursor.rowcount
    return updated


def _columns(rows: Sequence[tuple]) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


def _bump_counters_postgresql(table: str, pk_col: str, pk_type: str, pk_field, rows) -> int:
    # One statement, five array parameters, whatever the row count: psycopg
    # parses a query with thousands of placeholders on every call (bench/).
    if not rows:
        return 0
    pks, views, unique, first, last = _columns(rows)
    pks = [pk_field.get_db_prep_value(pk, connection) for pk in pks]
    query = (
        f"UPDATE {table} AS t SET {_assignments('', 't.')} "
        f"FROM unnest(%s::{pk_type}[], %s::bigint[], %s::bigint[], %s::timestamptz[], "
        f"%s::timestamptz[]) AS v(pk, n, u, f, l) WHERE t.{pk_col} = v.pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [pks, views, unique, first, last])
        return cursor.rowcount


def upsert_summaries(rows: Sequence[tuple[int, str, date, int, int]]) -> None:
    """Add (content_type_id, object_id, date, views, unique_views) to daily summaries."""
    from djinsight.models import PageViewSummary

    _add_views(
        PageViewSummary, ("content_type_id", "object_id", "date"), ("integer", "text", "date"), rows
    )


def upsert_daily_totals(rows: Sequence[tuple[int, date, int, int]]) -> None:
    """Add (content_type_id, date, views, unique_views) to the per-type daily totals."""
    from djinsight.models import PageViewDailyTotal

    _add_views(PageViewDailyTotal, ("content_type_id", "date"), ("integer", "date"), rows)


def upsert_weekly_summaries(rows: Sequence[tuple[int, str, date, int, int]]) -> None:
    """Add (content_type_id, object_id, Monday, views, unique_views) to weekly summaries."""
    from djinsight.models import PageViewWeeklySummary

    keys, key_types = ("content_type_id", "object_id", "week"), ("integer", "text", "date")
    _add_views(PageViewWeeklySummary, keys, key_types, rows)


def upsert_bot_summaries(rows: Sequence[tuple[int, str, date, str, int]]) -> None:
    """Add (content_type_id, object_id, date, kind, views) to the bot summaries."""
    from djinsight.models import PageViewBotSummary

    keys = ("content_type_id", "object_id", "date", "kind")
    key_types = ("integer", "text", "date", "text")
    _add_views(PageViewBotSummary, keys, key_types, rows, ("views",))


def upsert_dimension_totals(rows: Sequence[tuple[str, date, str, int]]) -> None:
    """Add (dimension, date, value, views) to the daily dimension totals."""
    from djinsight.models import PageViewDimensionTotal

    keys, key_types = ("dimension", "date", "value"), ("text", "date", "text")
    _add_views(PageViewDimensionTotal, keys, key_types, rows, ("views",))


def _add_views(
    model,
    keys: tuple[str, ...],
    key_types: tuple[str, ...],
    rows: Sequence[tuple],
    figures: tuple[str, ...] = ("total_views", "unique_views"),
) -> None:
    """Insert ``rows`` (keys..., figures...), adding to the figures of existing keys."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join([*keys, *figures])
    if connection.vendor == "mysql":
        sums = ", ".join(f"{f} = {f} + VALUES({f})" for f in figures)
        tail = f"ON DUPLICATE KEY UPDATE {sums}"
    else:
        sums = ", ".join(f"{f} = {table}.{f} + EXCLUDED.{f}" for f in figures)
        tail = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums}"
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{t}[]" for t in (*key_types, *["bigint"] * len(figures)))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {tail}",
                _columns(rows),
            )
        return
    width = len(keys) + len(figures)
    for chunk in _chunks(rows):
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
        params = [value for row in chunk for value in row]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} {tail}", params)


# Repeated per object, page, referrer and agent first, then what is per view:
# copy_text escapes each distinct head once.
LOG_COLUMNS = (
    "content_type_id",
    "object_id",
    "path",
    "referrer",
    "referrer_domain",
    "user_agent",
    "browser",
    "os",
    "device",
    "viewed_at",
    "ip_address",
    "visitor",
    "is_unique",
)
_HEAD = LOG_COLUMNS.index("viewed_at")


def insert_logs(rows: Sequence[tuple]) -> None:
    """Insert raw view logs; rows follow LOG_COLUMNS, ``viewed_at`` in epoch milliseconds.

    PostgreSQL gets one COPY of text built here: a batch repeats few paths,
    referrers and agents, so each distinct value is escaped once (bench/).
    """
    from djinsight.models import PageViewLog

    if not rows:
        return
    table = connection.ops.quote_name(PageViewLog._meta.db_table)
    columns = ", ".join(LOG_COLUMNS)
    if connection.vendor == "postgresql":
        copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
            copy.write(copy_text(rows))
        return
    placeholders = "(" + ", ".join(["%s"] * len(LOG_COLUMNS)) + ")"
    for chunk in _chunks(rows):
        params = [
            _db_value(ms_to_datetime(value) if i == _HEAD else value)
            for row in chunk
            for i, value in enumerate(row)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(chunk))}",
                params,
            )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_NULL = "\\N"


def _copy_field(value) -> str:
    if value is None:
        return _NULL
    if value is True or value is False:
        return "t" if value else "f"
    return str(value).translate(_COPY_ESCAPES)


# Columns that repeat together (object; page; referrer; agent), each group escaped once per batch.
_GROUPS = ((0, 2), (2, 3), (3, 5), (5, _HEAD))


def copy_text(rows: Iterable[tuple]) -> str:
    """``rows`` (LOG_COLUMNS) in COPY's text format."""
    caches: list[dict[tuple, str]] = [{} for _ in _GROUPS]
    seconds: dict[int, str] = {}
    lines = []
    for row in rows:
        fields = []
        for (start, end), cache in zip(_GROUPS, caches, strict=True):
            values = row[start:end]
            text = cache.get(values)
            if text is None:
                text = cache[values] = "\t".join(map(_copy_field, values))
            fields.append(text)
        viewed_at, ip, visitor, unique = row[_HEAD:]
        second, ms = divmod(viewed_at, 1000)
        moment = seconds.get(second)
        if moment is None:
            moment = seconds[second] = ms_to_datetime(second * 1000).strftime("%Y-%m-%d %H:%M:%S")
        # identity.py made ip (an address) and visitor (a hex digest): nothing to escape
        fields.append(f"{moment}.{ms:03d}+00\t{ip or _NULL}\t{visitor}\t{'t' if unique else 'f'}\n")
        lines.append("\t".join(fields))
    return "".join(lines)


def _db_value(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value
