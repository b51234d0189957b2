"""Object names and the Redis key layout.

An object is named ``app_label.model_name:pk``. Keys keep the specification's
names (``djinsight:counter:blog.article:5``). With DJINSIGHT_REDIS_CLUSTER the
prefix gains a hash tag per buffer shard, so every key one script touches lives
in one Cluster slot.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from djinsight.conf import settings


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

    def stats(self, name: ObjectName | str) -> str:
        """Hash: f/l = first/last view (epoch ms), d:YYYYMMDD = views that day."""
        return f"{self.prefix}stats:{name}"

    @property
    def stream(self) -> str:
        return f"{self.prefix}buffer:{self.shard}"

    @property
    def pending(self) -> str:
        """Hash of views not yet flushed for objects whose live counters are unseeded."""
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
