"""The live-figures endpoint behind ``live_stats_counter`` and ``page_stats_display``.

``GET /djinsight/live/?ref=<signed>&ref=<signed>`` (or ``POST {"refs": [...]}``)
answers ``{"stats": {"<ref>": {"total_views": ..., ...}}}`` for up to
``MAX_REFS`` references that the server signed when it rendered the page (I7).

Cost: one Redis round trip. An object whose live counters the flush has seeded
(every object viewed since its last flush) is answered from Redis alone, with
zero SQL. An object Redis cannot answer on its own (never flushed, or Redis
restarted) needs its stored figures: one batched query per model, plus the daily
summaries when it has stored views. With Redis down, everything comes from the
database.
"""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from djinsight.exceptions import BadReference, BadRequest, MethodNotAllowed
from djinsight.http import answers_errors, read_json
from djinsight.models import STAT_FIELDS
from djinsight.rules import tracked_model
from djinsight.stats.figures import Periods, ViewStats, get_stats, read_live_or_nothing
from djinsight.stats.formatting import format_moment
from djinsight.store.buffer import ms_to_datetime
from djinsight.store.keys import ObjectName
from djinsight.tracking.references import unsign

MAX_REFS = 100
MAX_BODY = MAX_REFS * 320  # a signed reference is well under 300 characters


def parse_refs(refs: list) -> dict[str, ObjectName]:
    """Signed reference → object name; BadRequest for a missing, excessive or forged list."""
    if not refs:
        raise BadRequest("missing_reference", "pass at least one 'ref'")
    if len(refs) > MAX_REFS:
        raise BadRequest(
            "too_many_references", f"at most {MAX_REFS} references per request, got {len(refs)}"
        )
    names = {}
    for ref in refs:
        try:
            names[ref] = unsign(ref)
        except BadReference as exc:
            raise BadRequest("invalid_reference", str(exc)) from None
    return names


def figures(stats: ViewStats) -> dict:
    data: dict[str, int | str] = {
        "total_views": stats.total_views,
        "unique_views": stats.unique_views,
        "views_today": stats.views_today,
        "views_week": stats.views_week,
        "views_month": stats.views_month,
    }
    # Omitted when unknown, so the page keeps what it rendered.
    if stats.last_viewed_at is not None:
        data["last_viewed_at"] = stats.last_viewed_at.isoformat()
        data["last_viewed_display"] = format_moment(stats.last_viewed_at)
    return data


def live_stats_for(names: list[ObjectName]) -> dict[ObjectName, ViewStats]:
    """Live figures for object names (no instances at hand); see the module docstring."""
    periods = Periods.current()
    names = list(dict.fromkeys(names))
    live = read_live_or_nothing(names, periods)
    result: dict[ObjectName, ViewStats] = {}
    stored = []
    for name in names:
        row = live.get(name)
        if row is None or not row.seeded:
            stored.append(name)
            continue
        # Seeded counters already hold the database figures plus pending views.
        stats = ViewStats(total_views=row.total, unique_views=row.unique)
        if row.last_ms:
            stats.last_viewed_at = ms_to_datetime(row.last_ms)
        periods.apply(stats, row.days)
        result[name] = stats
    if stored:
        result.update(get_stats(_load(stored), live=live))
    return result


def _load(names: list[ObjectName]) -> list:
    """The named objects with only their stat columns: one query per model."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_label[name.label].append(name.pk)
    objects = []
    for label, pks in by_label.items():
        model = tracked_model(label)
        if model is None:  # unsigned names never get here; a model removed since is skipped
            continue
        objects += list(model._base_manager.filter(pk__in=pks).only("pk", *STAT_FIELDS))
    return objects


# csrf_exempt: read-only, and only for signed references
@method_decorator([csrf_exempt, answers_errors], name="dispatch")
class LiveStatsView(View):
    http_method_names = ["get", "post", "options"]

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise MethodNotAllowed("use GET or POST", allow="GET, POST")

    def get(self, request: HttpRequest) -> JsonResponse:
        return self.answer(request.GET.getlist("ref"))

    def post(self, request: HttpRequest) -> JsonResponse:
        payload = read_json(request, MAX_BODY)
        refs = payload.get("refs") if isinstance(payload, dict) else None
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise BadRequest("invalid_field", "'refs' must be a list of strings")
        return self.answer(refs)

    def answer(self, refs: list) -> JsonResponse:
        by_ref = parse_refs(refs)
        stats = live_stats_for(list(by_ref.values()))
        body = {ref: figures(stats[name]) for ref, name in by_ref.items() if name in stats}
        response = JsonResponse({"stats": body})
        response["Cache-Control"] = "no-store"
        return response


live_stats = LiveStatsView.as_view()
