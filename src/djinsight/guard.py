"""Only the flush writes a tracked model's view figures.

The flush adds views in SQL (``total_views = total_views + n``), so an
instance loaded before a flush holds figures the database has moved past, and
saving it would write them back for good. The same goes for every copy of a
row that Django or Wagtail makes: the admin's change form, a fixture, a
revision published or reverted, a page copied or an alias synced.

So each tracked model's saves are guarded, whichever side of ``models.Model``
or ``Page`` the mixin sits and through multi-table inheritance:

- an UPDATE leaves the figure columns out unless ``save(update_fields=...)``
  names them (the one deliberate way in);
- an INSERT starts them at zero and never-viewed (a copy is a new object);
- a revision neither stores them nor brings old ones back.

The guard wraps Django's ``Model._do_update``/``_do_insert`` and ``save`` on
the model class when its columns are added (see ``models.add_stat_fields``):
a method on the mixin would lose to ``Model``'s in ``(models.Model, Mixin)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

STAT_FIELDS = ("total_views", "unique_views", "first_viewed_at", "last_viewed_at")
FIGURES = frozenset(STAT_FIELDS)
# id(instance) -> the figures its running save(update_fields=...) named
_asked: ContextVar[dict[int, frozenset[str]] | None] = ContextVar("djinsight_figures_asked")


def is_figure(field) -> bool:
    """A column the mixin added (not a user's field that happens to share a name)."""
    return getattr(field, "djinsight_figure", False)


def _asked_for(args: tuple, kwargs: dict) -> frozenset[str]:
    update_fields = kwargs.get("update_fields")
    if update_fields is None and len(args) > 3:  # Django < 6 accepted it positionally
        update_fields = args[3]
    return FIGURES.intersection(update_fields or ())


def _guard_save(save: Callable) -> Callable:
    @functools.wraps(save)
    def guarded_save(self, *args, **kwargs):
        # Only here is update_fields the caller's own: save() turns deferred
        # loading into an update_fields list that may name every figure.
        saving = _asked.get(None) or {}
        if id(self) in saving:  # a subclass's save() calling this one
            return save(self, *args, **kwargs)
        token = _asked.set({**saving, id(self): _asked_for(args, kwargs)})
        try:
            return save(self, *args, **kwargs)
        finally:
            _asked.reset(token)

    return guarded_save


def _guard_update(do_update: Callable) -> Callable:
    @functools.wraps(do_update)
    def guarded_do_update(self, base_qs, using, pk_val, values, update_fields, *args, **kwargs):
        asked = (_asked.get(None) or {}).get(id(self), frozenset())
        values = [v for v in values if not is_figure(v[0]) or v[0].name in asked]
        return do_update(self, base_qs, using, pk_val, values, update_fields, *args, **kwargs)

    return guarded_do_update


def _guard_insert(do_insert: Callable) -> Callable:
    @functools.wraps(do_insert)
    def guarded_do_insert(self, manager, using, fields, *args, **kwargs):
        for field in fields:
            if is_figure(field):
                setattr(self, field.attname, field.get_default())
        return do_insert(self, manager, using, fields, *args, **kwargs)

    return guarded_do_insert


def _guard_serializable_data(serializable_data: Callable) -> Callable:
    """Revisions (Wagtail, django-modelcluster) leave the figures out."""

    @functools.wraps(serializable_data)
    def guarded_serializable_data(self, *args, **kwargs):
        data = serializable_data(self, *args, **kwargs)
        for name in FIGURES:
            data.pop(name, None)
        return data

    return guarded_serializable_data


def _guard_with_content_json(with_content_json: Callable) -> Callable:
    """A revision brought back as an object shows the live figures, not its own."""

    @functools.wraps(with_content_json)
    def guarded_with_content_json(self, *args, **kwargs):
        obj = with_content_json(self, *args, **kwargs)
        for name in FIGURES:
            if name in self.__dict__:  # loaded; never a query for a deferred one
                setattr(obj, name, self.__dict__[name])
        return obj

    return guarded_with_content_json


_GUARDS: dict[str, Callable[[Callable], Callable]] = {
    "save": _guard_save,
    "_do_update": _guard_update,
    "_do_insert": _guard_insert,
    "serializable_data": _guard_serializable_data,
    "with_content_json": _guard_with_content_json,
}


def guard(model: type) -> None:
    """Wrap ``model``'s save path once; subclasses inherit the wrappers."""
    for name, wrap in _GUARDS.items():
        method: Any = getattr(model, name, None)
        if method is None or getattr(method, "djinsight_guarded", False):
            continue
        guarded = wrap(method)
        guarded.djinsight_guarded = True  # type: ignore[attr-defined]
        setattr(model, name, guarded)
