"""Query parameters of the dashboard, the API and exports: date ranges and choices.

Each parser raises BadParameter (djinsight.exceptions) with a stable ``code``
for JSON errors, for any text a client may send (unicode digits, NUL, huge
numbers, dates at the calendar's edges): never another exception, so that no
bad parameter is a 500 and no export breaks after its first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from djinsight.exceptions import BadParameter
from djinsight.rules import is_tracked_model, whole_number

PRESET_DAYS = (7, 30, 90)
MAX_DAYS = 3660
FIRST_YEAR = 1900
# Strictly YYYY-MM-DD in ASCII digits (date.fromisoformat also takes 20240101 and 2024-W01-1).
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# app_label.model as Django names them: ASCII letters, digits and underscores.
_LABEL = re.compile(r"[a-z_][a-z0-9_]{0,99}\.[a-z_][a-z0-9_]{0,99}")


# -- date ranges -------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """Whole days, both ends included, in the site's TIME_ZONE."""

    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def previous(self) -> DateRange:
        """The period of the same length that ends the day before this one starts."""
        return DateRange(self.since - timedelta(days=self.days), self.since - timedelta(days=1))

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.since, time.min))

    @property
    def end(self) -> datetime:
        """Exclusive upper bound: midnight after ``until``."""
        return timezone.make_aware(datetime.combine(self.until + timedelta(days=1), time.min))

    def dates(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range(self.days)]

    @classmethod
    def last(cls, days: int, today: date | None = None) -> DateRange:
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def from_params(cls, params: Mapping[str, str], default_days: int = 30) -> DateRange:
        """From ``period`` (days) or ``since``/``until`` (ISO dates); BadParameter if wrong.

        ``until`` after today is clamped to today: no view is recorded later, and
        the range stays one whose every day (and the day after) exists.
        """
        since, until = params.get("since") or "", params.get("until") or ""
        # Checked even when a preset period wins over them: a bad value is an error.
        since_date = _parse_date("since", since) if since else None
        until_date = _parse_date("until", until) if until else None
        if (since or until) and not params.get("period"):
            today = timezone.localdate()
            until_date = min(until_date, today) if until_date else today
            since_date = since_date or until_date - timedelta(days=default_days - 1)
            if since_date > until_date:
                raise BadParameter(
                    "invalid_range", f"'since' ({since_date}) is after 'until' ({until_date})"
                )
            rng = cls(since_date, until_date)
        else:
            rng = cls.last(parse_int(params, "period", default_days, 1, MAX_DAYS))
        if rng.days > MAX_DAYS:
            raise BadParameter("invalid_range", f"a range may span at most {MAX_DAYS} days")
        return rng


def _parse_date(name: str, value: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadParameter(
            "invalid_date", f"{name!r} must be a date as YYYY-MM-DD, not {value[:40]!r}"
        ) from None
    if parsed.year < FIRST_YEAR:
        raise BadParameter("invalid_date", f"{name!r} is before {FIRST_YEAR}")
    return parsed


def parse_int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` written in ASCII digits; ``default`` if absent."""
    raw = params.get(name)
    if not raw:
        return default
    value = whole_number(raw)
    if value is None or not low <= value <= high:
        raise BadParameter(
            "invalid_" + name,
            f"{name!r} must be a whole number from {low} to {high}, not {str(raw)[:40]!r}",
        )
    return value


def parse_choice(params: Mapping[str, str], name: str, choices: Iterable[str], default: str) -> str:
    value = params.get(name) or default
    if value not in choices:
        raise BadParameter(
            "invalid_" + name, f"{name!r} must be one of {', '.join(choices)}, not {value[:40]!r}"
        )
    return value


def parse_content_type(label: str | None) -> ContentType | None:
    """``app_label.model`` of a tracked model, or None when empty; BadParameter otherwise."""
    if not label:
        return None
    app_label, _, model = label.lower().partition(".")
    model_class = None
    # Anything else names no model, and a NUL would reach the database (DataError).
    if _LABEL.fullmatch(label.lower()):
        try:
            ct = ContentType.objects.get_by_natural_key(app_label, model)  # cached after the first
        except ContentType.DoesNotExist:
            ct = None
        model_class = ct.model_class() if ct else None
    if not is_tracked_model(model_class):
        raise BadParameter(
            "unknown_content_type", f"{label[:80]!r} is not a tracked model (use app_label.model)"
        )
    return ct
