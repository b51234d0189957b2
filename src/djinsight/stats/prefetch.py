"""One stats fetch per render: figures for every tracked object a template context holds.

Figures come from ``djinsight.stats.get_stats`` (live: includes views not yet
flushed). A page that shows stats for many objects must not ask Redis once per
object, so the first stat on a page fetches the figures of every tracked object
the context holds (lists, evaluated querysets, paginator pages) in one call and
keeps them for the rest of the render; see ``StatsCache``.

Wagtail pages get two more things (``pages`` section below): a base ``Page``
(``page.get_children``) stands for its specific instance, fetched in one
query per page type for every such page the context lists; and a page that
is the variable of a ``{% for %}`` over a list the context doesn't hold
(``{% for child in page.get_children.live %}``) brings its siblings along, so
that a listing costs one query and one Redis round trip, not one per child.
"""

from __future__ import annotations

import logging
from collections import defaultdict
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


def _items_in(value) -> Iterable:
    """Objects a context value holds (itself, or a list's items), without running any query."""
    if isinstance(value, LazyObject):
        # e.g. csrf_token, user: evaluating them would set a cookie or query the session
        return
    if isinstance(value, QuerySet):
        # only querysets the template already evaluated ({% for %} has by the time a tag runs)
        value = value._result_cache if value._result_cache is not None else ()
    elif isinstance(value, Page):
        value = value.object_list
        if isinstance(value, QuerySet):
            yield from _items_in(value)
            return
    if isinstance(value, (list, tuple)):
        yield from value[:MAX_SCAN]
    else:
        yield value


def _tracked_in(value) -> Iterable:
    """Tracked objects a context value holds, without running any query."""
    return (item for item in _items_in(value) if is_tracked(item))


class StatsCache:
    """Figures fetched during one render (or one request), keyed by object name."""

    def __init__(self) -> None:
        self.stats: dict[ObjectName, ViewStats] = {}
        self.pages: dict = {}  # pk -> specific Wagtail page of a tracked type, met as a peer
        self.scripts: set[str] = set()

    def get(self, context, obj) -> ViewStats:
        name = ObjectName.of(obj)
        if name not in self.stats:
            self._fetch(obj, self._candidates(context, obj))
        return self.stats.get(name) or ViewStats()

    def resolve(self, context, obj):
        """``obj`` if tracked; a Wagtail base page of a tracked type as its specific
        instance (fetched with its peers); else None."""
        if obj is None or is_tracked(obj):
            return obj
        model = tracked_page_class(obj)
        if model is None:
            return None
        if obj.pk not in self.pages:
            self._fetch_pages(context, obj, model)
        return self.pages.get(obj.pk)

    def _candidates(self, context, obj) -> list:
        found: dict[ObjectName, object] = {}

        def add(item) -> bool:
            name = ObjectName.of(item)
            if name not in self.stats and name not in found:
                found[name] = item
            return len(found) >= MAX_PREFETCH

        listed = False  # obj is in a list the context holds (not only a loop variable)
        for layer in context.dicts:
            for value in list(layer.values()):
                for item in _tracked_in(value):
                    listed = listed or (item is obj and value is not obj)
                    if add(item):
                        return list(found.values())
        if not listed and loop_page(context, obj) and obj.pk not in self.pages:
            self.pages.update((p.pk, p) for p in sibling_window(obj, type(obj)))
        for page in self.pages.values():
            if add(page):
                break
        return list(found.values())

    def _fetch(self, obj, others: list) -> None:
        objects = [obj, *[o for o in others if o is not obj]]
        try:
            self.stats.update(get_stats(objects))
        except Exception:  # a stats tag must never take the page down (I9)
            logger.exception("djinsight: could not read view statistics; showing stored figures")
            for item in objects:
                self.stats[ObjectName.of(item)] = stored_stats(item)

    def _fetch_pages(self, context, obj, model) -> None:
        """Specific instances of the base pages the context lists (one query per type),
        or of ``obj``'s siblings when it is a loop variable over an unlisted list."""
        listed: dict[type, list] = defaultdict(list)
        for layer in context.dicts:
            for value in list(layer.values()):
                if value is obj:
                    continue
                for item in _items_in(value):
                    item_model = None if is_tracked(item) else tracked_page_class(item)
                    if item_model is not None and item.pk not in self.pages:
                        listed[item_model].append(item.pk)
        if obj.pk not in listed[model]:
            if loop_page(context, obj):
                self.pages.update((p.pk, p) for p in sibling_window(obj, model))
            listed[model].append(obj.pk)
        for page_model, pks in listed.items():
            pks = [pk for pk in dict.fromkeys(pks) if pk not in self.pages][:MAX_PREFETCH]
            if pks:
                self.pages.update(_specific(page_model).in_bulk(pks))


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


def resolve(context, obj):
    """The tracked object a stat tag stands for (see ``StatsCache.resolve``), or None."""
    return stats_cache(context).resolve(context, obj)


def stats_for(context, obj) -> ViewStats:
    return stats_cache(context).get(context, obj)


def once(context, key: str) -> bool:
    """True the first time ``key`` is asked for in this render (to emit a script once)."""
    scripts = stats_cache(context).scripts
    if key in scripts:
        return False
    scripts.add(key)
    return True


# -- Wagtail pages (duck-typed: stats does not import Wagtail) -------------------------

SIBLINGS = 250  # siblings fetched on either side of a page met in an unlisted loop


def tracked_page_class(obj) -> type | None:
    """For a Wagtail page (a base ``Page`` most often): its specific class, if tracked.

    ``specific_class`` reads the content type from Django's cache: no query
    after the first of the process.
    """
    if not hasattr(type(obj), "specific_class") or getattr(obj, "pk", None) is None:
        return None
    model = obj.specific_class
    return model if is_tracked_model(model) else None


def loop_page(context, obj) -> bool:
    """``obj`` is a Wagtail page bound by a ``{% for %}`` (its layer has ``forloop``)."""
    if not hasattr(type(obj), "steplen") or not hasattr(obj, "path"):
        return False
    return any(
        "forloop" in layer and any(v is obj for v in layer.values()) for layer in context.dicts
    )


def sibling_window(obj, model) -> list:
    """Specific ``model`` pages beside ``obj`` under its parent, in one query: up to
    SIBLINGS on either side in tree order (a listing in tree order, reversed or by
    date, shows neighbours), ``obj`` included."""
    tree, step = type(obj), type(obj).steplen
    parent, number = obj.path[:-step], tree._str2int(obj.path[-step:])
    top = len(tree.alphabet) ** step - 1

    def path(n: int) -> str:
        return parent + tree._int2str(min(max(n, 1), top)).rjust(step, tree.alphabet[0])

    pages = _specific(model).filter(
        depth=obj.depth, path__gte=path(number - SIBLINGS), path__lte=path(number + SIBLINGS)
    )
    return list(pages.order_by("path"))


def _specific(model) -> QuerySet:
    """``model``'s pages without their StreamField content (not needed for figures)."""
    pages = model._default_manager.all()
    return pages.defer_streamfields() if hasattr(pages, "defer_streamfields") else pages
