"""The domain rules every stage shares, each defined once here.

- ``week_start``: weeks start on Monday (ISO 8601, like the database's
  ``TruncWeek``): "views this week", weekly summaries, weekly report buckets.
- ``is_tracked_model`` / ``tracked_model``: a model is tracked when it uses
  ``PageViewStatisticsMixin``; only tracked models are recorded, flushed,
  reported on and shown.
- ``object_pk``: an object id as text (from Redis, a URL, a report row) made
  into a model's primary key, or None when it cannot be one.
- ``whole_number``: what a whole number in a request looks like: ASCII digits
  only (``int()`` also takes ``'٣'``, ``' 3'``, ``'3_0'``; ``str.isdigit()``
  takes ``'²'``, which ``int()`` refuses).
- ``HUMAN``, ``SEARCH``, ``AI``, ``OTHER``: the kinds of view (``tracking/agents.py``
  tells them apart by User-Agent). Human figures count only ``HUMAN`` views; the
  others are kept apart, per object and day (``PageViewBotSummary``).
- ``is_editor``: who ``DJINSIGHT_SKIP_EDITORS`` leaves uncounted: a logged-in
  user who can reach an admin (staff, or Wagtail's ``wagtailadmin.access_admin``).
- ``can_view_analytics``: who may read the analytics dashboard, exports, the
  API and the Wagtail surfaces with a session: an active user holding
  ``djinsight.view_analytics`` (staff or not: Wagtail editors seldom are). The
  Django admin's own pages still need ``is_staff``, as its login does. (The raw
  log and summary admins use Django's own per-model view permissions.)

The week rule has a SQL twin: ``TruncWeek`` (also Monday-based) where the
database groups days into weeks (``pipeline/rollups.py``, ``reports/queries.py``).

Imports nothing of djinsight at load time, so any module (models.py too) can
use it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.apps import apps
from django.db import models

ANALYTICS_PERMISSION = "djinsight.view_analytics"
WAGTAIL_ADMIN_PERMISSION = "wagtailadmin.access_admin"
# Longer numbers are refused before int() sees them: no id or parameter needs more.
MAX_DIGITS = 20
_DIGITS = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")

HUMAN = "human"
SEARCH = "search"  # search-engine crawlers
AI = "ai"  # AI crawlers and assistants
OTHER = "other"  # every other automated client: HTTP libraries, headless browsers, monitors...
BOT_KINDS = (SEARCH, AI, OTHER)
VIEW_KINDS = (HUMAN, *BOT_KINDS)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def is_tracked_model(model) -> bool:
    """True for a model class that uses ``PageViewStatisticsMixin``."""
    from djinsight.models import PageViewStatisticsMixin

    return isinstance(model, type) and issubclass(model, PageViewStatisticsMixin)


def tracked_model(label: str) -> type[models.Model] | None:
    """The tracked model named ``app_label.model_name``, else None (unknown or untracked)."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return model if is_tracked_model(model) else None


def whole_number(text: object) -> int | None:
    """``text`` as an int when it is 1 to MAX_DIGITS ASCII digits, else None."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    return int(text)


def object_pk(model, value):
    """``value`` as ``model``'s primary key (``to_python``), or None if it cannot be one.

    Text that no database could compare (a NUL) is None, and so is an integer key
    written any other way than ASCII digits.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return None
        if isinstance(model._meta.pk, models.IntegerField) and (
            whole_number(value.removeprefix("-")) is None
        ):
            return None
    try:
        return model._meta.pk.to_python(value)
    except Exception:  # a custom key field may raise anything on a malformed id
        return None


def is_editor(user) -> bool:
    """A logged-in user who can reach the Django or the Wagtail admin."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or user.has_perm(WAGTAIL_ADMIN_PERMISSION))
    )


def can_view_analytics(user) -> bool:
    """Whether a (session) user may read dashboards, exports, logs and the API.

    ``is_staff`` is not asked for: the permission is what grants it.
    """
    return bool(user is not None and user.is_active and user.has_perm(ANALYTICS_PERMISSION))
