"""CSV and NDJSON exports of summaries and raw logs, streamed in constant memory.

Rows are read in keyset-paginated chunks and written one line at a time, so
memory does not grow with the number of rows. Used by the admin, the API and ``djinsight_export``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime

from django.db import connection
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Concat
from django.http import StreamingHttpResponse

from djinsight.models import PageViewLog, PageViewSummary
from djinsight.reports.params import DateRange

FORMATS = ("csv", "ndjson")
KINDS = ("summaries", "logs")
CHUNK_SIZE = 2000
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}

COLUMNS = {
    "summaries": ["date", "content_type", "object_id", "total_views", "unique_views"],
    "logs": [
        "viewed_at",
        "content_type",
        "object_id",
        "path",
        "referrer",
        "referrer_domain",
        "user_agent",
        "browser",
        "os",
        "device",
        "ip_address",
        "visitor",
        "is_unique",
    ],
}
# Spreadsheets run cells that start with these as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def queryset(kind: str, rng: DateRange):
    """The rows to export, in the order they were written (by id)."""
    qs: QuerySet
    if kind == "summaries":
        qs = PageViewSummary.objects.filter(date__gte=rng.since, date__lte=rng.until)
    elif kind == "logs":
        qs = PageViewLog.objects.filter(viewed_at__gte=rng.start, viewed_at__lt=rng.end)
    else:
        raise ValueError(kind)
    return qs.order_by("id")


def _fields(kind: str) -> list[str]:
    return [c for c in COLUMNS[kind] if c != "content_type"]


def _label():
    return Concat(
        "content_type__app_label", Value("."), "content_type__model", output_field=CharField()
    )


def rows(kind: str, rng: DateRange, chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
    """Every row, fetched in chunks of ``chunk_size`` by primary key (keyset pagination).

    On PostgreSQL, ``.iterator()`` (a server-side cursor). Elsewhere not: MySQLdb
    buffers a whole result set on the client, so short queries resuming after the
    last id keep memory flat.
    """
    base = queryset(kind, rng).values(*_fields(kind), "id", content_type_label=_label())
    if connection.vendor == "postgresql":  # a real server-side cursor: one linear scan
        yield from base.iterator(chunk_size=chunk_size)
        return
    last = None
    while True:
        qs = base if last is None else base.filter(id__gt=last)
        chunk = list(qs[:chunk_size])
        yield from chunk
        if len(chunk) < chunk_size:
            return
        last = chunk[-1]["id"]
        del chunk  # don't hold two chunks while the next one is fetched


def count(kind: str, rng: DateRange) -> int:
    return queryset(kind, rng).order_by().count()


def neutralise(value):
    """Make a text cell inert in spreadsheets (CSV injection): prefix formulas with '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cell(row: dict, column: str):
    value = row["content_type_label"] if column == "content_type" else row[column]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


class _Line:
    """A file-like object whose write() returns what was written (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(kind: str, items) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS[kind])
    for row in items:
        yield writer.writerow([neutralise(_cell(row, c)) for c in COLUMNS[kind]])


def ndjson_lines(kind: str, items) -> Iterator[str]:
    for row in items:
        yield json.dumps({c: _cell(row, c) for c in COLUMNS[kind]}, ensure_ascii=False) + "\n"


def lines(fmt: str, kind: str, items) -> Iterator[str]:
    if fmt == "csv":
        return csv_lines(kind, items)
    if fmt == "ndjson":
        return ndjson_lines(kind, items)
    raise ValueError(fmt)


def filename(fmt: str, kind: str, rng: DateRange) -> str:
    return f"djinsight-{kind}-{rng.since}-{rng.until}.{fmt}"


def streaming_response(fmt: str, kind: str, rng: DateRange) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        lines(fmt, kind, rows(kind, rng)), content_type=CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(fmt, kind, rng)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
