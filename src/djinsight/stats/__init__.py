"""Live figures for objects.

Views in the database plus those still in Redis, fetched once per render.

``get_stats`` and ``get_object_stats`` are public (``from djinsight.stats import get_stats``).
"""

from djinsight.stats.figures import Periods, ViewStats, get_object_stats, get_stats

__all__ = ["Periods", "ViewStats", "get_object_stats", "get_stats"]
