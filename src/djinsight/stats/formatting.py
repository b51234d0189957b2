"""How view figures read: counts (1.2K) and moments ("never", localised dates)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def format_view_count(value) -> str:
    """1234 → "1.2K", 1250000 → "1.2M"; rounds down so a count is never overstated.

    None and "" give "0"; a value that is not a number comes back unchanged.
    """
    if value is None or value == "":
        return "0"
    if isinstance(value, bool):
        return str(value)
    try:
        number = int(float(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        return str(value)
    sign_ = "-" if number < 0 else ""
    number = abs(number)
    for size, unit in UNITS:
        if number >= size:
            tenths = number * 10 // size
            whole, decimal = divmod(tenths, 10)
            return f"{sign_}{whole}{'.' + str(decimal) if decimal else ''}{unit}"
    return f"{sign_}{number}"


def format_moment(moment: datetime | None) -> str:
    if moment is None:
        return _("never")
    # Live counters re-send the same moments every few seconds; formatting is the slow part.
    return _format_moment(
        moment,
        get_language(),
        timezone.get_current_timezone_name(),
        formats.get_format("DATETIME_FORMAT"),
    )


@lru_cache(maxsize=4096)
def _format_moment(moment: datetime, language, tz_name: str, pattern: str) -> str:
    return formats.date_format(timezone.localtime(moment), pattern)
