"""A flush batch's raw log rows, and their views per day of each log dimension.

Both run once per view, so each distinct object, referrer and agent of a
batch is resolved once, and each combination of dimensions counted once.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from operator import itemgetter

from django.utils import timezone

from djinsight.models import PageViewDimensionTotal
from djinsight.pipeline import writes
from djinsight.pipeline.useragent import parse_agent, referrer_domain
from djinsight.store import buffer
from djinsight.store.keys import (
    ENTRY_IP,
    ENTRY_OBJECT,
    ENTRY_PATH,
    ENTRY_REFERRER,
    ENTRY_TIME,
    ENTRY_UNIQUE,
    ENTRY_USER_AGENT,
    ENTRY_VISITOR,
    ObjectName,
)

VALUE_LENGTH = PageViewDimensionTotal._meta.get_field("value").max_length

_DIMENSION_COLUMNS = [
    (name, writes.LOG_COLUMNS.index(name)) for name in PageViewDimensionTotal.LOG_DIMENSIONS
]
_VIEWED_AT = writes.LOG_COLUMNS.index("viewed_at")
_pick_dimensions = itemgetter(*[index for _name, index in _DIMENSION_COLUMNS])


def dimension_totals(rows: list[tuple]) -> list[tuple[str, date, str, int]]:
    """(dimension, day, value, views) of log rows, days and hours in site time."""
    # Count each combination once, then split it per dimension: far fewer steps per view.
    combinations: Counter[tuple] = Counter()
    moments: dict[int, tuple[date, str]] = {}
    for row in rows:
        minute = row[_VIEWED_AT] // 60_000
        moment = moments.get(minute)
        if moment is None:
            local = timezone.localtime(buffer.ms_to_datetime(minute * 60_000))
            moment = moments[minute] = (local.date(), f"{local.hour:02d}")
        combinations[(moment, _pick_dimensions(row))] += 1
    counts: Counter[tuple[str, date, str]] = Counter()
    for ((day, hour), values), views in combinations.items():
        counts[("hour", day, hour)] += views
        for (name, _index), value in zip(_DIMENSION_COLUMNS, values, strict=True):
            if value:
                counts[(name, day, value[:VALUE_LENGTH])] += views
    return [(*key, views) for key, views in counts.items()]


def log_rows(logs: list[dict], content_types) -> list[tuple]:
    """writes.LOG_COLUMNS rows; ``viewed_at`` stays in epoch milliseconds."""
    rows = []
    # A batch repeats few objects, referrers and agents: resolve each once (bench/).
    objects: dict[str, tuple | None] = {}
    referrers: dict[str, tuple[str, str]] = {}
    agents: dict[str, tuple[str, str, str, str]] = {}
    for e in logs:
        name = e[ENTRY_OBJECT]
        if name not in objects:
            objects[name] = _target(name, content_types)
        target = objects[name]
        if target is None:
            continue
        referrer = referrers.get(raw := e.get(ENTRY_REFERRER, ""))
        if referrer is None:
            referrer = referrers[raw] = (raw[:2000], referrer_domain(raw[:2000]))
        agent = agents.get(raw := e.get(ENTRY_USER_AGENT, ""))
        if agent is None:
            agent = agents[raw] = (raw[:500], *parse_agent(raw[:500]))
        rows.append(
            (
                *target,
                e.get(ENTRY_PATH, "")[:2000],
                *referrer,
                *agent,
                int(e[ENTRY_TIME]),
                e.get(ENTRY_IP) or None,
                e.get(ENTRY_VISITOR, "")[:24],
                e.get(ENTRY_UNIQUE) == "1",
            )
        )
    return rows


def _target(name: str, content_types) -> tuple[int, str] | None:
    ref = ObjectName.parse(name)
    if ref.label not in content_types:
        return None
    return content_types[ref.label][1].pk, ref.pk
