"""Read-only views of what Redis holds, for analyze_redis. No KEYS, no SCAN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from djinsight.conf import settings
from djinsight.rules import object_pk, tracked_model
from djinsight.stats.figures import get_stats
from djinsight.store.client import get_redis
from djinsight.store.keys import CAPPED_VIEWS, CAPPED_VISITORS, Keys, ObjectName, day_key


@dataclass
class TrackedObject:
    label: str
    pk: str
    display: str
    total: int
    unique: int
    pending: int


def buffered_views() -> int:
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for shard in range(settings.BUFFER_SHARDS):
        pipe.xlen(Keys(shard).stream)
    return sum(pipe.execute())


@dataclass
class Capped:
    """Views the inflation budgets kept out of every figure, over the last ``days`` days."""

    days: int
    views: int  # past the views budget (per network, object and minute)
    visitors: int  # past the new-visitors budget (per network and minute)

    @property
    def total(self) -> int:
        return self.views + self.visitors


def capped_views(days: int = 7) -> Capped:
    """The ``capped`` figure: one HGETALL per shard and local day, in one round trip."""
    today = timezone.localdate()
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for shard in range(settings.BUFFER_SHARDS):
        keys = Keys(shard)
        for back in range(days):
            pipe.hgetall(keys.capped(day_key(today - timedelta(days=back))))
    found = {CAPPED_VIEWS: 0, CAPPED_VISITORS: 0}
    for fields in pipe.execute():
        for field, count in fields.items():
            name = field.decode()
            if name in found:
                found[name] += int(count)
    return Capped(days, found[CAPPED_VIEWS], found[CAPPED_VISITORS])


def _recent_names(limit: int) -> list[ObjectName]:
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for shard in range(settings.BUFFER_SHARDS):
        pipe.zrevrange(Keys(shard).objects, 0, limit - 1, withscores=True)
    scored = [(score, name.decode()) for rows in pipe.execute() for name, score in rows]
    scored.sort(reverse=True)
    return [ObjectName.parse(name) for _, name in scored[:limit]]


def tracked_objects(limit: int = 50) -> list[TrackedObject]:
    names = _recent_names(limit)
    objects: dict[ObjectName, Any] = {}
    for name in names:
        model = tracked_model(name.label)
        pk = object_pk(model, name.pk) if model is not None else None
        if model is None or pk is None:
            continue
        obj = model._base_manager.filter(pk=pk).first()
        if obj is not None:
            objects[name] = obj
    stats = get_stats(objects.values())
    rows = []
    for name in names:
        obj = objects.get(name)
        if obj is None:
            rows.append(TrackedObject(name.label, name.pk, "(deleted)", 0, 0, 0))
            continue
        live = stats[name]
        pending = live.total_views - (obj.total_views or 0)
        rows.append(
            TrackedObject(
                name.label,
                name.pk,
                obj.get_display_name(),
                live.total_views,
                live.unique_views,
                pending,
            )
        )
    return rows
