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

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from djinsight.conf import settings
from djinsight.exceptions import Conflict, UnknownModels
from djinsight.models import FlushLedger, PageViewSummary
from djinsight.pipeline import logrows, writes
from djinsight.rules import object_pk, tracked_model, week_start
from djinsight.signals import views_flushed
from djinsight.store import buffer
from djinsight.store.client import get_redis
from djinsight.store.keys import (
    ENTRY_DAY,
    ENTRY_OBJECT,
    ENTRY_PENDING,
    ENTRY_TIME,
    ENTRY_UNIQUE,
    STATS_DAYS,
    Keys,
    ObjectName,
    day_key,
    parse_day,
    pending_fields,
)

logger = logging.getLogger("djinsight")


@dataclass
class Batch:
    """One pass over a batch's entries: what the database and the trim need.

    ``objects``: name -> [views, unique views, first ms, last ms];
    ``days``: (name, YYYYMMDD) -> [views, unique views];
    ``decrements``: pending-hash fields the trim takes back (see lua/trim.lua).
    """

    objects: dict[str, list[int]] = field(default_factory=dict)
    days: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    decrements: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    logs: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, entries: list[tuple[str, dict]], keep_logs: bool) -> Batch:
        batch = cls()
        objects, days, decrements = batch.objects, batch.days, batch.decrements
        for _entry_id, e in entries:
            name, day, ts = e[ENTRY_OBJECT], e[ENTRY_DAY], int(e[ENTRY_TIME])
            unique = 1 if e.get(ENTRY_UNIQUE) == "1" else 0
            tally = objects.get(name)
            if tally is None:
                objects[name] = [1, unique, ts, ts]
            else:
                tally[0] += 1
                tally[1] += unique
                tally[2] = min(tally[2], ts)
                tally[3] = max(tally[3], ts)
            day_tally = days.get((name, day))
            if day_tally is None:
                days[(name, day)] = [1, unique]
            else:
                day_tally[0] += 1
                day_tally[1] += unique
            if e.get(ENTRY_PENDING) == "1":  # counted in the pending hash while unseeded
                views, uniques, on_day = pending_fields(name, day)
                decrements[views] += 1
                decrements[on_day] += 1
                if unique:
                    decrements[uniques] += 1
        if keep_logs:
            batch.logs = [e for _entry_id, e in entries]
        return batch


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
    content_types = _content_types(batch.objects, discard_unknown)
    _write(batch, content_types)
    window = seed_window(timezone.localdate())
    seeds = _seeds(shard, batch, content_types, window)
    return Applied(len(entries), watermark, ledger.watermark, seeds, batch.decrements, window)


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


def _content_types(objects, discard_unknown: bool = False) -> dict[str, tuple[type, ContentType]]:
    labels = {ObjectName.parse(name).label for name in objects}
    models = _models_by_label(labels, discard_unknown)
    types = ContentType.objects.get_for_models(*models.values(), for_concrete_models=False)
    return {label: (model, types[model]) for label, model in models.items()}


def _write(batch: Batch, content_types) -> None:
    counters: dict[type, list[tuple]] = defaultdict(list)
    for name, (views, unique, first_ms, last_ms) in batch.objects.items():
        ref = ObjectName.parse(name)
        if ref.label not in content_types:
            continue
        model = content_types[ref.label][0]
        pk = object_pk(model, ref.pk)
        if pk is not None:
            counters[model].append(
                (pk, views, unique, buffer.ms_to_datetime(first_ms), buffer.ms_to_datetime(last_ms))
            )
    for model, rows in counters.items():
        writes.bump_counters(model, rows)
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
    rows = logrows.log_rows(batch.logs, content_types)
    writes.insert_logs(rows)
    writes.upsert_dimension_totals(logrows.dimension_totals(rows))


def seed_window(today: date) -> list[str]:
    """The days (YYYYMMDD, oldest first) whose views a seed carries into Redis."""
    return [day_key(today - timedelta(days=n)) for n in range(STATS_DAYS - 1, -1, -1)]


def _seeds(shard: int, batch: Batch, content_types, window: list[str]) -> list[buffer.Seed]:
    """Database figures for batch objects whose live counters Redis lacks."""
    keys = Keys(shard)
    names = list(batch.objects)
    # One MGET for the whole batch (a shard's keys share a cluster slot).
    counters = get_redis().mget([keys.counter(name) for name in names])
    unseeded = [name for name, counter in zip(names, counters, strict=True) if counter is None]
    if not unseeded:
        return []
    seeds = []
    by_label: dict[str, list[ObjectName]] = defaultdict(list)
    for name in unseeded:
        ref = ObjectName.parse(name)
        if ref.label in content_types:
            by_label[ref.label].append(ref)
    for label, refs in by_label.items():
        model, ct = content_types[label]
        seeds += _seeds_for_model(model, ct, refs, parse_day(window[0]), parse_day(window[-1]))
    return seeds


def _seeds_for_model(model, ct, refs, since: date, today: date) -> list[buffer.Seed]:
    pks = [pk for pk in (object_pk(model, ref.pk) for ref in refs) if pk is not None]
    totals = {
        str(pk): (total, unique)
        for pk, total, unique in model._base_manager.filter(pk__in=pks).values_list(
            "pk", "total_views", "unique_views"
        )
    }
    days: dict[str, dict[str, int]] = defaultdict(dict)
    rows = PageViewSummary.objects.filter(
        content_type=ct, object_id__in=list(totals), date__gte=since, date__lte=today
    ).values_list("object_id", "date", "total_views")
    for object_id, day, views in rows:
        if views:
            days[object_id][day_key(day)] = views
    label = f"{ct.app_label}.{ct.model}"
    return [
        buffer.Seed(f"{label}:{pk}", total, unique, days.get(pk, {}))
        for pk, (total, unique) in totals.items()
    ]


def cleanup_pageviews(days: int | None = None, chunk: int = 10_000, progress=None) -> int:
    """Delete raw logs older than ``days`` (DJINSIGHT_CLEANUP_DAYS) in bounded batches."""
    from djinsight.models import PageViewLog

    days = settings.CLEANUP_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            PageViewLog.objects.filter(viewed_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            return deleted
        deleted += PageViewLog.objects.filter(pk__in=ids).delete()[0]
        if progress:
            progress(deleted)
