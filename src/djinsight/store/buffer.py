"""Redis side of the pipeline: record a view, trim what a flush applied, read live figures.

Each view is one EVALSHA of ``lua/record.lua``: it judges the view unique (by the
visitor's mark, or past the day's limit the day's HyperLogLog), bumps the live
counters and appends the view to its shard's stream. The flush
applies stream entries to the database and only then runs ``lua/trim.lua``,
which is idempotent (guarded by the shard's "trimmed" watermark), so a retried
or crashed flush never trims twice. The scripts and their arguments are in
``scripts.py``. See docs/architecture.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import timezone as dt_timezone
from typing import cast

from djinsight.conf import settings
from djinsight.exceptions import ObjectDeleted
from djinsight.store import scripts
from djinsight.store.client import get_redis, scripts_for
from djinsight.store.keys import RECORD_DELETED, TOMBSTONE_SECONDS, Keys, ObjectName, shard_of


def ms_to_datetime(ms: int) -> datetime:
    """A stream timestamp (milliseconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=dt_timezone.utc)


@dataclass
class View:
    name: ObjectName
    visitor: str
    timestamp_ms: int
    day: date
    path: str = ""
    referrer: str = ""
    user_agent: str = ""
    ip: str = ""


def record_view(view: View, client=None) -> bool:
    """Record one view in one round trip; True if the visitor is new for this object.

    ObjectDeleted, with nothing written, if the object was marked deleted (``forget``).
    """
    script_keys, args = scripts.record_call(view)
    if client is not None:  # a pipeline, or a caller's own client
        answer = scripts_for(client).record(keys=script_keys, args=args, client=client)
    else:
        client = get_redis()
        answer = scripts.run_pooled(client, scripts_for(client).record, script_keys, args)
    if answer == RECORD_DELETED:
        raise ObjectDeleted(f"{view.name} was deleted; its views are not recorded")
    return bool(answer)


def forget(names: Iterable[ObjectName | str], tombstone: bool | None = None, client=None) -> None:
    """Delete the live keys of objects (counters, stats hash, place in ``objects``).

    ``tombstone``: True marks the objects deleted, so that record.lua refuses
    their views for TOMBSTONE_SECONDS; False clears the mark (an object created
    again); None leaves it. Views still in the stream are the flush's to drop or
    apply, the pending hash the trim's. One atomic round trip (per shard on Cluster).
    """
    by_shard: dict[int, list[ObjectName | str]] = defaultdict(list)
    for name in names:
        by_shard[shard_of(name)].append(name)
    client = client or get_redis()
    pipe = client.pipeline(transaction=True)
    for shard, group in by_shard.items():
        keys = Keys(shard)
        for name in group:
            pipe.delete(keys.counter(name), keys.unique_counter(name), keys.stats(name))
            if tombstone:
                pipe.set(keys.deleted(name), 1, ex=TOMBSTONE_SECONDS)
            elif tombstone is not None:
                pipe.delete(keys.deleted(name))
        pipe.zrem(keys.objects, *map(str, group))
        if settings.REDIS_CLUSTER:  # a transaction stays within one hash slot
            pipe.execute()
    pipe.execute()


@dataclass
class Seed:
    """Database figures of an object at a flush watermark, to seed its live counters."""

    name: str
    total: int
    unique: int
    days: dict[str, int] = field(default_factory=dict)  # YYYYMMDD -> views, days with views only


def trim(
    shard: int,
    watermark: str,
    seeds: Sequence[Seed] = (),
    after: str = "",
    decrements: dict[str, int] | None = None,
    window: Sequence[str] = (),
    client=None,
) -> bool:
    """Drop applied entries up to ``watermark`` and seed live counters; idempotent.

    ``after`` and ``decrements``: the watermark the applied batch started from
    and its pending counts, which spare the script re-reading the entries when
    nothing else was trimmed in between. ``window``: the days (YYYYMMDD) the
    seeds' figures cover.
    """
    script_keys, args = scripts.trim_call(shard, watermark, seeds, after, decrements or {}, window)
    return bool(scripts_for(client).trim(keys=script_keys, args=args, client=client))


@dataclass
class LiveRow:
    seeded: bool
    total: int
    unique: int
    first_ms: int | None
    last_ms: int | None
    days: dict[date, int]


def read_live(names: list[ObjectName], days: list[date], client=None) -> dict[ObjectName, LiveRow]:
    """Live Redis figures for many objects in one round trip.

    One script call covers every object; on Redis Cluster it is one call per
    shard (all of a shard's keys share a slot), sent as one pipeline.
    """
    client = client or get_redis()
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    groups: dict[int, list[ObjectName]] = defaultdict(list)
    for name in names:
        groups[shard_of(name) if settings.REDIS_CLUSTER else 0].append(name)
    read = scripts_for(client).read
    if len(groups) == 1:
        script_keys, args = scripts.read_call(names, days)
        outputs = [read(keys=script_keys, args=args, client=client)]
    else:
        pipe = client.pipeline(transaction=False)
        for group in groups.values():
            script_keys, args = scripts.read_call(group, days)
            read(keys=script_keys, args=args, client=pipe)
        outputs = pipe.execute()
    result: dict[ObjectName, LiveRow] = {}
    for group, rows in zip(groups.values(), outputs, strict=True):
        for name, row in zip(group, rows, strict=True):
            result[name] = _live_row(row, days)
    return result


def _live_row(row: list, days: list[date]) -> LiveRow:
    def as_int(value) -> int | None:
        return int(value) if value not in (b"", "", None) else None

    return LiveRow(
        seeded=int(row[0]) == 1,
        total=int(row[1]),
        unique=int(row[2]),
        first_ms=as_int(row[3]),
        last_ms=as_int(row[4]),
        days={d: int(v) for d, v in zip(days, row[5:], strict=True)},
    )


def read_entries(shard: int, after: str, count: int) -> list[tuple[str, dict]]:
    """Stream entries of ``shard`` strictly after ``after``, oldest first."""
    start = "-" if after == "0-0" else "(" + after
    entries = get_redis(decode_responses=True).xrange(
        Keys(shard).stream, min=start, max="+", count=count
    )
    return cast("list[tuple[str, dict]]", entries)  # decode_responses: ids and fields are str
