"""Deleted objects stop counting: their live keys go, and their views are refused.

A signed reference never expires, so a page rendered before its object was
deleted (cached, or open in a tab) keeps sending views. When a tracked object
is deleted, ``object_deleted`` removes its live keys from Redis and leaves a
tombstone that record.lua checks first: the beacon answers 410 and writes
nothing (``buffer.forget``). Deletes no signal reports (raw SQL) are caught by
the flush, which drops the views of objects it cannot find. An object created
again with the same primary key clears its tombstone (``object_created``).

Both run after the commit (a rolled-back delete leaves no tombstone) and never
break the save or delete: with Redis down they log once and move on.
"""

from __future__ import annotations

import redis
from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from djinsight.conf import settings
from djinsight.exceptions import ConfigurationError
from djinsight.rules import is_tracked_model
from djinsight.store import buffer
from djinsight.store.client import outage
from djinsight.store.keys import ObjectName


def connect() -> None:
    """Connect the receivers to each tracked model (from ``DjinsightConfig.ready``).

    Per model, not for every sender: a post_delete receiver makes Django load
    the rows it deletes to signal each one, which untracked models need not pay.
    """
    for model in apps.get_models():
        if is_tracked_model(model):
            label = model._meta.label_lower
            post_delete.connect(object_deleted, sender=model, dispatch_uid=f"djinsight.del.{label}")
            post_save.connect(object_created, sender=model, dispatch_uid=f"djinsight.new.{label}")


def names_of(instance) -> set[ObjectName]:
    """The names a reference to ``instance`` may carry: its class's, and its concrete
    model's when it is a proxy."""
    pk = str(instance.pk)
    meta = instance._meta
    return {ObjectName(meta.label_lower, pk), ObjectName(meta.concrete_model._meta.label_lower, pk)}


def object_deleted(sender, instance, using: str, **kwargs) -> None:
    if instance.pk is not None:
        _after_commit(names_of(instance), deleted=True, using=using)


def object_created(sender, instance, created: bool, using: str, **kwargs) -> None:
    if created:
        _after_commit(names_of(instance), deleted=False, using=using)


def _after_commit(names: set[ObjectName], deleted: bool, using: str) -> None:
    transaction.on_commit(lambda: forget(names, deleted), using=using, robust=True)


def forget(names: set[ObjectName], deleted: bool) -> None:
    """``buffer.forget``, or nothing (logged once) while Redis is unavailable."""
    if not settings.ENABLE_TRACKING or outage.should_skip():
        return
    try:
        buffer.forget(names, tombstone=deleted)
    except (redis.RedisError, OSError, ConfigurationError) as exc:
        outage.failed(exc)
        return
    outage.succeeded()
