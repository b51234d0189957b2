"""Object names and the Redis layout: keys, and the fields inside them.

An object is named ``app_label.model_name:pk``. Keys keep the specification's
names (``djinsight:counter:blog.article:5``). With DJINSIGHT_REDIS_CLUSTER the
prefix gains a hash tag per buffer shard, so every key one script touches lives
in one Cluster slot.

The field names below are shared by the Lua scripts and the Python that packs
or reads what they store, and are defined here only: ``scripts.source`` binds
each one a script uses as a Lua local of the same name.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

from djinsight.conf import settings

# Stats hash (Keys.stats), per object.
STATS_FIRST = "f"  # first view, ms since the epoch
STATS_LAST = "l"  # last view, ms since the epoch
STATS_DAY = "d:"  # "d:YYYYMMDD": views that local day
STATS_DAYS = 40  # days kept: covers "this month" and "this week"
# record.lua prunes day fields older than STATS_DAYS once the hash has more fields
# than this: the slack makes that a scan every few new days, not every day.
STATS_PRUNE_ABOVE = STATS_DAYS + 8

# Pending hash (Keys.pending), per shard: "<name>" = views of an unseeded object,
# "<name>|u" = its unique views, "<name>|d:YYYYMMDD" = its views that day.
PENDING_UNIQUE = "|u"
PENDING_DAY = "|d:"

# Stream entry (Keys.stream): one view, as record.lua appends it.
ENTRY_OBJECT = "o"  # object name
ENTRY_VISITOR = "v"  # visitor hash
ENTRY_UNIQUE = "u"  # "1" if a unique view, else "0"
ENTRY_PENDING = "p"  # "1" if counted in the pending hash (object not seeded), else "0"
ENTRY_DAY = "d"  # local day, YYYYMMDD
ENTRY_TIME = "t"  # ms since the epoch
ENTRY_PATH = "path"
ENTRY_REFERRER = "ref"
ENTRY_USER_AGENT = "ua"
ENTRY_IP = "ip"  # anonymised, or ""

# Per object and local day (Keys.day_visitors, Keys.day_claimed): a HyperLogLog of the
# day's visitors and how much of its estimate record.lua has given out as unique views.
# Kept for the day plus views backdated by up to a day (the beacon refuses older ones),
# with an hour to spare for a 25-hour day.
DAY_VISITORS_TTL = 50 * 60 * 60  # seconds
# record.lua's answer when the object's tombstone (Keys.deleted) exists: nothing written.
RECORD_DELETED = -1
# How long a deleted object's tombstone stays. References never expire, so pages
# rendered before the delete (cached, open in a tab) keep sending views for a while;
# a fixed month outlasts any sane page cache, and is not the unique-visitor window
# (DJINSIGHT_REDIS_EXPIRATION), which means something else. After it the flush still
# drops such views, so the TTL bounds memory, not correctness.
TOMBSTONE_SECONDS = 30 * 24 * 60 * 60


def day_key(day: date) -> str:
    """A day as the scripts name it (YYYYMMDD)."""
    return day.strftime("%Y%m%d")


def parse_day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def pending_fields(name: str, day: str) -> tuple[str, str, str]:
    """Pending-hash fields of an object's views, unique views and views on ``day``."""
    return name, name + PENDING_UNIQUE, name + PENDING_DAY + day


@dataclass(frozen=True)
class ObjectName:
    label: str  # "blog.article"
    pk: str  # "5" or a UUID string

    def __str__(self) -> str:
        return f"{self.label}:{self.pk}"

    @classmethod
    def parse(cls, text: str) -> ObjectName:
        label, sep, pk = text.rpartition(":")
        if not sep or not label or not pk:
            raise ValueError(f"not an object name: {text!r}")
        return cls(label, pk)

    @classmethod
    def of(cls, obj) -> ObjectName:
        return cls(obj._meta.label_lower, str(obj.pk))


def shard_of(name: ObjectName | str, shards: int | None = None) -> int:
    shards = shards or settings.BUFFER_SHARDS
    return zlib.crc32(str(name).encode()) % shards


class Keys:
    """Key names for one buffer shard."""

    def __init__(self, shard: int) -> None:
        self.shard = shard
        prefix = settings.REDIS_KEY_PREFIX
        self.prefix = f"{prefix}{{{shard}}}:" if settings.REDIS_CLUSTER else prefix

    def counter(self, name: ObjectName | str) -> str:
        return f"{self.prefix}counter:{name}"

    def unique_counter(self, name: ObjectName | str) -> str:
        return f"{self.prefix}unique_counter:{name}"

    def session(self, visitor: str, name: ObjectName) -> str:
        return f"{self.prefix}session:{visitor}:page:{name.label}:{name.pk}"

    def day_visitors(self, name: ObjectName | str, day: str) -> str:
        """HyperLogLog of the object's visitors on local day ``day`` (YYYYMMDD)."""
        return f"{self.prefix}hll:{name}:{day}"

    def day_claimed(self, name: ObjectName | str, day: str) -> str:
        """Integer: the part of ``day_visitors``' estimate already counted as unique views.

        Exists only once the day's visitors passed DJINSIGHT_UNIQUE_EXACT_LIMIT.
        """
        return f"{self.prefix}hll_claimed:{name}:{day}"

    def stats(self, name: ObjectName | str) -> str:
        """Hash: first/last view (epoch ms) and views per day; fields STATS_*."""
        return f"{self.prefix}stats:{name}"

    def deleted(self, name: ObjectName | str) -> str:
        """Tombstone of a deleted object (TTL TOMBSTONE_SECONDS): record.lua refuses its views."""
        return f"{self.prefix}deleted:{name}"

    @property
    def stream(self) -> str:
        """Stream of the views not yet trimmed, one entry each; fields ENTRY_*."""
        return f"{self.prefix}buffer:{self.shard}"

    @property
    def pending(self) -> str:
        """Hash of views not yet flushed for objects whose live counters are unseeded.

        Fields: see ``pending_fields``.
        """
        return f"{self.prefix}pending:{self.shard}"

    @property
    def trimmed(self) -> str:
        """Stream id up to which applied entries have been trimmed."""
        return f"{self.prefix}trimmed:{self.shard}"

    @property
    def objects(self) -> str:
        """Sorted set of tracked objects (score: last view), for analyze_redis."""
        return f"{self.prefix}objects:{self.shard}"


def keys_for(name: ObjectName) -> Keys:
    return Keys(shard_of(name))
