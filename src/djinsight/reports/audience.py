"""Who sent the views of a range: people, and bots by kind (search, AI, other)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum
from django.db.models.functions import Coalesce

from djinsight.models import PageViewBotSummary
from djinsight.reports.params import DateRange
from djinsight.reports.queries import daily
from djinsight.rules import AI, HUMAN, OTHER, SEARCH


@dataclass
class Audience:
    """Views in a range by who sent them: people, and bots by kind (rules.VIEW_KINDS)."""

    human: int = 0
    search: int = 0
    ai: int = 0
    other: int = 0

    @property
    def bots(self) -> int:
        return self.search + self.ai + self.other

    @property
    def bot_percent(self) -> float | None:
        """Bots' share of all views, in percent; None without views."""
        everything = self.human + self.bots
        return round(self.bots * 100 / everything, 1) if everything else None

    def as_dict(self) -> dict:
        return {HUMAN: self.human, SEARCH: self.search, AI: self.ai, OTHER: self.other}


def audience(
    rng: DateRange, content_type=None, object_id=None, human: int | None = None
) -> Audience:
    """Human and bot views of everything, a type or one object: one query for the bots,
    and one for the humans unless ``human`` (their views, already read) is given."""
    if human is None:
        human = totals_of(rng, content_type, object_id)
    bots = PageViewBotSummary.objects.filter(date__gte=rng.since, date__lte=rng.until)
    if content_type is not None:
        bots = bots.filter(content_type=content_type)
    if object_id is not None:
        bots = bots.filter(object_id=object_id)
    by_kind = dict(bots.values_list("kind").annotate(n=Sum("views")).order_by())
    return Audience(human, *(int(by_kind.get(kind, 0)) for kind in (SEARCH, AI, OTHER)))


def totals_of(rng: DateRange, content_type=None, object_id=None) -> int:
    """Human views in the range."""
    row = daily(rng.since, rng.until, content_type, object_id).aggregate(
        views=Coalesce(Sum("total_views"), 0)
    )
    return int(row["views"])
