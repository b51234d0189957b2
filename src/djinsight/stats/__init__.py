"""Live figures for objects: views in the database plus those still in Redis, fetched once per
render; and the inspection of what Redis holds (``analyze_redis``).

``get_stats`` and ``get_object_stats`` are public (``from djinsight.stats import get_stats``).
They are looked up on first use, so importing a module of this package (``formatting``, say)
needs no app registry.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Periods",
    "ViewStats",
    "get_object_stats",
    "get_stats",
    "get_stats_and_days",
    "live_totals",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from djinsight.stats import figures

        return getattr(figures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
