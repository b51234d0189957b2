"""One stats fetch per render: figures for every tracked object a template context holds.

Figures come from ``djinsight.stats.get_stats`` (live: includes views not yet
flushed). A page that shows stats for many objects must not ask Redis once per
object, so the first stat on a page fetches the figures of every tracked object
the context holds (lists, evaluated querysets, paginator pages) in one call and
keeps them for the rest of the render; see ``StatsCache``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.paginator import Page
from django.db.models import QuerySet
from django.utils.functional import LazyObject

from djinsight.rules import is_tracked_model
from djinsight.stats.figures import ViewStats, get_stats, stored_stats
from djinsight.store.keys import ObjectName

logger = logging.getLogger("djinsight")

MAX_PREFETCH = 500  # objects fetched ahead in one Redis call
MAX_SCAN = 1000  # items looked at per list in the context


def is_tracked(obj) -> bool:
    return is_tracked_model(type(obj)) and getattr(obj, "pk", None) is not None


def _tracked_in(value) -> Iterable:
    """Tracked objects a context value holds, without running any query."""
    if isinstance(value, LazyObject):
        # e.g. csrf_token, user: evaluating them would set a cookie or query the session
        return
    if is_tracked(value):
        yield value
        return
    if isinstance(value, QuerySet):
        # only querysets the template already evaluated ({% for %} has by the time a tag runs)
        if value._result_cache is None or not is_tracked_model(value.model):
            return
        value = value._result_cache
    elif isinstance(value, Page):
        value = value.object_list
        if isinstance(value, QuerySet):
            yield from _tracked_in(value)
            return
    if isinstance(value, (list, tuple)):
        for item in value[:MAX_SCAN]:
            if is_tracked(item):
                yield item


class StatsCache:
    """Figures fetched during one render (or one request), keyed by object name."""

    def __init__(self) -> None:
        self.stats: dict[ObjectName, ViewStats] = {}
        self.scripts: set[str] = set()

    def get(self, context, obj) -> ViewStats:
        name = ObjectName.of(obj)
        if name not in self.stats:
            self._fetch(obj, self._candidates(context))
        return self.stats.get(name) or ViewStats()

    def _candidates(self, context) -> list:
        found: dict[ObjectName, object] = {}
        for layer in context.dicts:
            for value in list(layer.values()):
                for item in _tracked_in(value):
                    name = ObjectName.of(item)
                    if name not in self.stats and name not in found:
                        found[name] = item
                        if len(found) >= MAX_PREFETCH:
                            return list(found.values())
        return list(found.values())

    def _fetch(self, obj, others: list) -> None:
        objects = [obj, *[o for o in others if o is not obj]]
        try:
            self.stats.update(get_stats(objects))
        except Exception:  # a stats tag must never take the page down (I9)
            logger.exception("djinsight: could not read view statistics; showing stored figures")
            for item in objects:
                self.stats[ObjectName.of(item)] = stored_stats(item)


CACHE_ATTRIBUTE = "_djinsight_stats_cache"


def stats_cache(context) -> StatsCache:
    """The render's cache: kept on the request when there is one, else on the context."""
    holder = context.get("request")
    if holder is None or not hasattr(holder, "__dict__"):
        holder = context
    cache = getattr(holder, CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = StatsCache()
        setattr(holder, CACHE_ATTRIBUTE, cache)
    return cache


def stats_for(context, obj) -> ViewStats:
    return stats_cache(context).get(context, obj)


def once(context, key: str) -> bool:
    """True the first time ``key`` is asked for in this render (to emit a script once)."""
    scripts = stats_cache(context).scripts
    if key in scripts:
        return False
    scripts.add(key)
    return True
