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
from djinsight.rules import HUMAN

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
# Only in an automated view's entry: its kind (rules.SEARCH, AI or OTHER). Such an
# entry has only ENTRY_OBJECT, ENTRY_KIND, ENTRY_DAY and ENTRY_TIME: record.lua
# counted nothing for it, and the flush adds it to its bot summary only.
ENTRY_KIND = "k"
KIND_HUMAN = HUMAN  # record.lua's ARGV for a human view

# Per object and local day (Keys.day_visitors, Keys.day_claimed): a HyperLogLog of the
# day's visitors and how much of its estimate record.lua has given out as unique views.
# Kept for a 25-hour day plus views backdated (the beacon accepts 10 minutes, no more),
# with a day to spare.
DAY_VISITORS_TTL = 50 * 60 * 60  # seconds
# record.lua's answer when the object's tombstone (Keys.deleted) exists: nothing written.
RECORD_DELETED = -1
# How long a deleted object's tombstone stays. References never expire, so pages
# rendered before the delete (cached, open in a tab) keep sending views for a while;
# a fixed month outlasts any sane page cache, and is not the unique-visitor window
# (DJINSIGHT_REDIS_EXPIRATION), which means something else. After it the flush still
# drops such views, so the TTL bounds memory, not correctness.
TOMBSTONE_SECONDS = 30 * 24 * 60 * 60

# Inflation budgets (record.lua, DJINSIGHT_RATE_LIMIT): INCR counters per network (and
# object) and minute of the server's clock, gone two minutes later: memory stays bounded.
BUDGET_TTL = 120  # seconds
# What record.lua answers for a view past a budget: only the capped figure was bumped.
RECORD_CAPPED = -2
# Capped hash (Keys.capped), per shard and local day: views not counted, by budget.
CAPPED_VIEWS = "views"  # past the views budget (per network, object and minute)
CAPPED_VISITORS = "visitors"  # past the new-visitors budget (per network and minute)
CAPPED_TTL = 8 * 24 * 60 * 60  # a week of days for analyze_redis and the dashboard
# The mark a beacon leaves when it suspects an undeclared reverse proxy (tracking/proxies.py).
PROXY_SUSPECTED_TTL = 7 * 24 * 60 * 60


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

    def budget_views(self, network: str, name: ObjectName | str, minute: int) -> str:
        """Integer (TTL BUDGET_TTL): views of the object from ``network`` in ``minute``."""
        return f"{self.prefix}budget:{network}:{name}:{minute}"

    def budget_visitors(self, network: str, minute: int) -> str:
        """Integer (TTL BUDGET_TTL): new visitors from ``network`` in ``minute`` (per shard
        on Cluster, where the key lives in the object's shard slot)."""
        return f"{self.prefix}budget_new:{network}:{minute}"

    def capped(self, day: str) -> str:
        """Hash (TTL CAPPED_TTL): views past a budget on local day ``day``; fields CAPPED_*."""
        return f"{self.prefix}capped:{self.shard}:{day}"

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


def proxy_suspected() -> str:
    """String key: when and from which address beacons suggested an undeclared proxy."""
    return f"{settings.REDIS_KEY_PREFIX}proxy_suspected"


def keys_for(name: ObjectName) -> Keys:
    return Keys(shard_of(name))
