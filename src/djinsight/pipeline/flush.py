"""Move buffered views from Redis into the database, exactly once.

One batch of one shard is applied in one database transaction that also
advances the shard's watermark (compare-and-set on FlushLedger). Redis entries
are trimmed only after the commit, by an idempotent script, so a flush that is
retried, killed at any line or raced by another flusher neither loses a view
nor applies one twice. See docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from djinsight.conf import settings
from djinsight.exceptions import Conflict, UnknownModels
from djinsight.models import FlushLedger, PageViewSummary
from djinsight.pipeline import logrows, writes
from djinsight.pipeline.batch import Batch
from djinsight.rules import object_pk, tracked_model, week_start
from djinsight.signals import views_flushed
from djinsight.store import buffer
from djinsight.store.client import get_redis
from djinsight.store.keys import (
    STATS_DAYS,
    Keys,
    ObjectName,
    day_key,
    parse_day,
)

logger = logging.getLogger("djinsight")


def shard_ids() -> list[int]:
    known = set(FlushLedger.objects.values_list("shard", flat=True))
    return sorted(known | set(range(settings.BUFFER_SHARDS)))


def ensure_ledger() -> None:
    wanted = set(range(settings.BUFFER_SHARDS))
    missing = wanted - set(FlushLedger.objects.values_list("shard", flat=True))
    if missing:
        FlushLedger.objects.bulk_create(
            [FlushLedger(shard=s) for s in sorted(missing)], ignore_conflicts=True
        )


@dataclass
class FlushResult:
    views: int = 0
    batches: int = 0
    skipped_shards: list[int] = field(default_factory=list)
    held: dict[int, list[str]] = field(default_factory=dict)  # shard -> unknown model labels


def process_pageviews(
    batch_size: int | None = None,
    max_batches: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    discard_unknown: bool = False,
) -> FlushResult:
    """Flush every shard until its buffer is empty (or ``max_batches`` per shard).

    A shard whose next batch names a model this process doesn't know is left
    as it is (see UnknownModels) and the other shards go on.
    """
    batch_size = batch_size or settings.BATCH_SIZE
    ensure_ledger()
    result = FlushResult()
    for shard in shard_ids():
        done = 0
        while max_batches is None or done < max_batches:
            try:
                applied = flush_batch(shard, batch_size, discard_unknown)
            except UnknownModels as exc:
                logger.error("djinsight: shard %s: %s", shard, exc)
                result.held[shard] = exc.labels
                break
            if applied is None:
                result.skipped_shards.append(shard)
                break
            if applied == 0:
                break
            done += 1
            result.views += applied
            result.batches += 1
            if progress:
                progress(shard, result.views)
    return result


def flush_batch(shard: int, batch_size: int, discard_unknown: bool = False) -> int | None:
    """Apply up to ``batch_size`` views of one shard. None if another flusher holds it."""
    try:
        with transaction.atomic():
            applied = _apply_batch(shard, batch_size, discard_unknown)
    except Conflict:
        return None
    if applied is None:
        return None
    buffer.trim(
        shard, applied.watermark, applied.seeds, applied.after, applied.decrements, applied.window
    )
    if applied.missing:
        # Their views are dropped; so are live keys those views may have made. A
        # flusher killed before this leaves them, until a later view is dropped too.
        buffer.forget(applied.missing)
    if applied.count:
        views_flushed.send(sender=None, shard=shard, views=applied.count)
    return applied.count


def _lock_ledger(shard: int) -> FlushLedger | None:
    rows = FlushLedger.objects.filter(shard=shard)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    elif connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return rows.first()


@dataclass
class Applied:
    """A committed batch, and what its trim needs."""

    count: int
    watermark: str
    after: str = ""
    seeds: list = field(default_factory=list)
    decrements: dict = field(default_factory=dict)
    window: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # names of objects no longer in the database


def _apply_batch(shard: int, batch_size: int, discard_unknown: bool = False) -> Applied | None:
    ledger = _lock_ledger(shard)
    if ledger is None:
        return None
    # Entries up to the watermark are applied; drop any a crashed flush left behind.
    buffer.trim(shard, ledger.watermark)
    entries = buffer.read_entries(shard, ledger.watermark, batch_size)
    if not entries:
        return Applied(0, ledger.watermark)
    watermark = entries[-1][0]
    advanced = FlushLedger.objects.filter(shard=shard, watermark=ledger.watermark).update(
        watermark=watermark, applied_views=F("applied_views") + len(entries)
    )
    if advanced != 1:
        raise Conflict(f"shard {shard}: another flusher advanced the watermark first")
    batch = Batch.of(entries, keep_logs=settings.STORE_RAW_LOGS)
    content_types = _content_types(batch.names(), discard_unknown)
    counted = _bump_counters(batch, content_types, _unseeded(shard, batch))
    if counted.missing:
        views = batch.drop(counted.missing)
        logger.info(
            "djinsight: shard %s: dropped %s views of %s deleted objects",
            shard,
            views,
            len(counted.missing),
        )
    _write(batch, content_types)
    window = seed_window(timezone.localdate())
    seeds = _seeds(counted.totals, content_types, window)
    return Applied(
        len(entries),
        watermark,
        ledger.watermark,
        seeds,
        batch.decrements,
        window,
        sorted(counted.missing),
    )


def _models_by_label(labels, discard_unknown: bool) -> dict[str, type]:
    found, unknown = {}, set()
    for label in labels:
        model = tracked_model(label)
        if model is not None:
            found[label] = model
        else:
            unknown.add(label)
    if unknown and not discard_unknown:
        raise UnknownModels(unknown)
    if unknown:
        logger.warning("djinsight: discarding views of unknown models %s", sorted(unknown))
    return found


def _content_types(names, discard_unknown: bool = False) -> dict[str, tuple[type, ContentType]]:
    labels = {ObjectName.parse(name).label for name in names}
    models = _models_by_label(labels, discard_unknown)
    types = ContentType.objects.get_for_models(*models.values(), for_concrete_models=False)
    return {label: (model, types[model]) for label, model in models.items()}


@dataclass
class Counted:
    """What the counter updates found out."""

    missing: set[str] = field(default_factory=set)  # objects no longer in the database
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)  # unseeded: views, unique


def _unseeded(shard: int, batch: Batch) -> set[str]:
    """Batch objects whose live counters Redis lacks: one MGET (a shard shares a slot)."""
    keys, names = Keys(shard), list(batch.objects)
    counters = get_redis().mget([keys.counter(name) for name in names]) if names else []
    return {name for name, counter in zip(names, counters, strict=True) if counter is None}


def _bump_counters(batch: Batch, content_types, unseeded: set[str]) -> Counted:
    """Add the batch's views to the mixin columns, and find the objects that are gone.

    An update's row count tells whether every object of a model is still there,
    so in steady state this costs the updates only. Otherwise one read per model
    names the missing objects, and reads the totals the unseeded ones are seeded
    with (which it reads alone when nothing is missing).
    """
    counted = Counted()
    by_model: dict[type, dict[Any, str]] = defaultdict(dict)  # model -> pk -> name
    for name in batch.objects:
        ref = ObjectName.parse(name)
        if ref.label not in content_types:
            continue  # a model discarded as unknown
        model = content_types[ref.label][0]
        pk = object_pk(model, ref.pk)
        if pk is None:
            counted.missing.add(name)
        else:
            by_model[model][pk] = name
    for model, names in by_model.items():
        rows = []
        for pk, name in names.items():
            views, unique, first_ms, last_ms = batch.objects[name]
            first, last = buffer.ms_to_datetime(first_ms), buffer.ms_to_datetime(last_ms)
            rows.append((pk, views, unique, first, last))
        all_there = writes.bump_counters(model, rows) == len(names)
        wanted = {pk: name for pk, name in names.items() if not all_there or name in unseeded}
        found = _stored_totals(model, wanted) if wanted else {}
        if not all_there:
            counted.missing |= set(names.values()) - set(found)
        counted.totals |= {name: found[name] for name in found if name in unseeded}
    return counted


def _stored_totals(model, names: dict[Any, str]) -> dict[str, tuple[int, int]]:
    """name -> (total_views, unique_views) of the objects (pk -> name) still stored."""
    rows = model._base_manager.using(connection.alias).filter(pk__in=list(names))
    if connection.features.has_select_for_update:
        # A locking read sees the latest rows: on MariaDB a plain one may read the
        # transaction's snapshot, older than the delete the update just saw.
        rows = rows.select_for_update()
    found = rows.values_list("pk", "total_views", "unique_views")
    return {names[pk]: (total, unique) for pk, total, unique in found if pk in names}


def _write(batch: Batch, content_types) -> None:
    """Summaries, their rollups, bot summaries, raw logs and dimension totals of the batch."""
    summaries = []
    # the daily summaries added up per type and day, and per object and week
    totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    weeks: dict[tuple[int, str, date], list[int]] = defaultdict(lambda: [0, 0])
    for (name, day), (views, unique) in batch.days.items():
        ref = ObjectName.parse(name)
        if ref.label in content_types:
            ct, day_date = content_types[ref.label][1], parse_day(day)
            summaries.append((ct.pk, ref.pk, day_date, views, unique))
            week = week_start(day_date)
            for tally in (totals[(ct.pk, day_date)], weeks[(ct.pk, ref.pk, week)]):
                tally[0] += views
                tally[1] += unique
    writes.upsert_summaries(summaries)
    writes.upsert_daily_totals([(*key, views, unique) for key, (views, unique) in totals.items()])
    writes.upsert_weekly_summaries(
        [(*key, views, unique) for key, (views, unique) in weeks.items()]
    )
    writes.upsert_bot_summaries(_bot_rows(batch.bots, content_types))
    rows = logrows.log_rows(batch.logs, content_types)
    writes.insert_logs(rows)
    writes.upsert_dimension_totals(logrows.dimension_totals(rows))


def _bot_rows(bots: dict[tuple[str, str, str], int], content_types) -> list[tuple]:
    """(content_type_id, object_id, date, kind, views) of the batch's automated views."""
    rows = []
    for (name, day, kind), views in bots.items():
        ref = ObjectName.parse(name)
        if ref.label in content_types:
            rows.append((content_types[ref.label][1].pk, ref.pk, parse_day(day), kind, views))
    return rows


def seed_window(today: date) -> list[str]:
    """The days (YYYYMMDD, oldest first) whose views a seed carries into Redis."""
    return [day_key(today - timedelta(days=n)) for n in range(STATS_DAYS - 1, -1, -1)]


def _seeds(
    totals: dict[str, tuple[int, int]], content_types, window: list[str]
) -> list[buffer.Seed]:
    """Seeds for the unseeded objects (``totals``: their figures, this batch included)."""
    by_label: dict[str, dict[str, str]] = defaultdict(dict)  # label -> object id -> name
    for name in totals:
        ref = ObjectName.parse(name)
        by_label[ref.label][ref.pk] = name
    days: dict[str, dict[str, int]] = defaultdict(dict)
    for label, names in by_label.items():
        rows = PageViewSummary.objects.using(connection.alias).filter(
            content_type=content_types[label][1],
            object_id__in=list(names),
            date__gte=parse_day(window[0]),
            date__lte=parse_day(window[-1]),
        )
        for object_id, day, views in rows.values_list("object_id", "date", "total_views"):
            if views:
                days[names[object_id]][day_key(day)] = views
    return [
        buffer.Seed(name, total, unique, days.get(name, {}))
        for name, (total, unique) in totals.items()
    ]
