"""A flush batch tallied in one pass over its stream entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from djinsight.store.keys import (
    ENTRY_DAY,
    ENTRY_KIND,
    ENTRY_OBJECT,
    ENTRY_PENDING,
    ENTRY_TIME,
    ENTRY_UNIQUE,
    pending_fields,
)


@dataclass
class Batch:
    """One pass over a batch's entries: what the database and the trim need.

    ``objects``: name -> [views, unique views, first ms, last ms];
    ``days``: (name, YYYYMMDD) -> [views, unique views];
    ``decrements``: pending-hash fields the trim takes back (see lua/trim.lua);
    ``bots``: (name, YYYYMMDD, kind) -> automated views, kept apart from all the above.
    """

    objects: dict[str, list[int]] = field(default_factory=dict)
    days: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    bots: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    decrements: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    logs: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, entries: list[tuple[str, dict]], keep_logs: bool) -> Batch:
        batch = cls()
        objects, days, decrements = batch.objects, batch.days, batch.decrements
        humans = []
        for _entry_id, e in entries:
            name, day = e[ENTRY_OBJECT], e[ENTRY_DAY]
            kind = e.get(ENTRY_KIND)
            if kind is not None:  # a bot's view: record.lua counted nothing for it
                batch.bots[(name, day, kind)] += 1
                continue
            humans.append(e)
            ts = int(e[ENTRY_TIME])
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
        if keep_logs:  # human views only, like every figure the logs feed
            batch.logs = humans
        return batch

    def names(self) -> set[str]:
        """The objects the batch has views of, human or not."""
        return set(self.objects) | {name for name, _day, _kind in self.bots}

    def drop(self, names: set[str]) -> int:
        """Forget the views of ``names`` (but not their ``decrements``); how many there were."""
        views = sum(self.objects.pop(name)[0] for name in names)
        self.days = {key: tally for key, tally in self.days.items() if key[0] not in names}
        self.bots = {key: n for key, n in self.bots.items() if key[0] not in names}
        self.logs = [e for e in self.logs if e[ENTRY_OBJECT] not in names]
        return views
