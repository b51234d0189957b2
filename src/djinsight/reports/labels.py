"""Names and links for report rows, without a query per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.urls import NoReverseMatch, reverse

from djinsight.rules import object_pk


def _names_object(row) -> bool:
    return getattr(row, "object_id", None) is not None


def resolve(rows: Iterable) -> None:
    """Fill labels, display names and links of report rows: one query for
    content types plus one per content type for the objects, whatever the
    number of rows. Rows with an ``object_id`` name objects; the others name
    content types."""
    rows = list(rows)
    ct_ids = {r.content_type_id for r in rows}
    if not ct_ids:
        return
    cts = ContentType.objects.in_bulk(ct_ids)
    wanted: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        if _names_object(r):
            wanted[r.content_type_id].add(r.object_id)
    objects: dict[tuple[int, str], Model] = {}
    for ct_id, pks in wanted.items():
        ct = cts.get(ct_id)
        model = ct.model_class() if ct else None
        if model is None:
            continue
        valid = [pk for pk in (object_pk(model, pk) for pk in pks) if pk is not None]
        for instance in model._default_manager.filter(pk__in=valid):
            objects[(ct_id, str(instance.pk))] = instance
    for r in rows:
        ct = cts.get(r.content_type_id)
        r.label = f"{ct.app_label}.{ct.model}" if ct else str(r.content_type_id)
        if not _names_object(r):
            model = ct.model_class() if ct else None
            r.name = str(model._meta.verbose_name_plural) if model else r.label
            continue
        obj = objects.get((r.content_type_id, r.object_id))
        r.exists = obj is not None
        if obj is None:
            r.name = f"{r.label}:{r.object_id} (deleted)"
            continue
        r.name = display_name(obj)
        r.url = public_url(obj)
        r.admin_url = admin_url(obj)


def display_name(obj) -> str:
    get_name = getattr(obj, "get_display_name", None)
    try:
        return str(get_name() if get_name else obj)[:300]
    except Exception:  # a user's __str__ must not break the dashboard
        return f"{obj._meta.label_lower}:{obj.pk}"


def public_url(obj) -> str:
    try:
        get_url = getattr(obj, "get_tracking_url", None) or getattr(obj, "get_absolute_url", None)
        url = get_url() if get_url else ""
    except Exception:
        return ""
    url = url or ""
    # only site-relative or http(s) links; never javascript: and friends
    return url if url.startswith(("/", "http://", "https://")) and not url.startswith("//") else ""


def admin_url(obj) -> str:
    meta = obj._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""
