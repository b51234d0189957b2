"""The REST API: read-only JSON over the daily summaries and live Redis figures.

Authentication: a session holding ``djinsight.view_analytics`` (staff or not), or an API
token sent as ``Authorization: Bearer <token>`` (tokens are created in the
admin and stored hashed). Errors are ``{"error": {"code": ..., "message": ...}}``
with a 4xx status; the codes are listed in ``docs/analytics.md``.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from djinsight.api.openapi import schema as openapi_schema
from djinsight.exceptions import (  # ApiError: the base of the API's errors, importable here
    ApiError,  # noqa: F401
    Forbidden,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
)
from djinsight.http import SafeJsonResponse, answers_errors, error_response
from djinsight.models import ApiToken
from djinsight.reports import audience as audience_report
from djinsight.reports import export, labels, queries
from djinsight.reports.params import (
    BadParameter,
    DateRange,
    parse_choice,
    parse_content_type,
    parse_int,
)
from djinsight.rules import ANALYTICS_PERMISSION, can_view_analytics, object_pk
from djinsight.stats.figures import get_object_stats

MAX_LIMIT = 100
MAX_PAGE = 10_000
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def authenticate(request: HttpRequest) -> None:
    """Accept a valid bearer token or a session holding the analytics permission; else ApiError."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw or len(raw) > 200:
            raise NotAuthenticated(
                "invalid_token", "send the token as 'Authorization: Bearer <token>'"
            )
        token = ApiToken.objects.filter(key_hash=ApiToken.hash(raw), is_active=True).first()
        if token is None:
            raise NotAuthenticated("invalid_token", "the API token is unknown or revoked")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise NotAuthenticated("not_authenticated", "log in or send an API token")
    if not can_view_analytics(user):
        raise Forbidden("permission_denied", f"the {ANALYTICS_PERMISSION} permission is required")


def api_view(func):
    """GET/HEAD only, authenticated, with every failure turned into a JSON 4xx."""

    @answers_errors
    @functools.wraps(func)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            raise _method_not_allowed(request)
        authenticate(request)
        return func(request, *args, **kwargs)

    return wrapper


def _method_not_allowed(request: HttpRequest) -> MethodNotAllowed:
    return MethodNotAllowed(f"{request.method} is not allowed; use GET", allow="GET, HEAD")


def _range_dict(rng: DateRange) -> dict:
    return {"since": rng.since.isoformat(), "until": rng.until.isoformat(), "days": rng.days}


def _object_filter(params) -> tuple:
    """(content_type, object_id) from the query string; object_id needs a content type."""
    content_type = parse_content_type(params.get("content_type"))
    object_id = params.get("object_id") or None
    if object_id is not None:
        if content_type is None:
            raise BadParameter("missing_content_type", "'object_id' needs 'content_type'")
        object_id = _clean_pk(content_type, object_id)
    return content_type, object_id


def _clean_pk(content_type, object_id: str) -> str:
    pk = object_pk(content_type.model_class(), object_id[:64])
    if pk is None:
        raise BadParameter(
            "invalid_object_id", f"{object_id[:64]!r} is not a valid id for {content_type.model}"
        )
    return str(pk)


@api_view
def object_stats(request, content_type: str, object_id: str):
    """Live figures for one object (includes views not flushed yet)."""
    ct = parse_content_type(content_type)
    assert ct is not None  # the URL pattern gives a non-empty label
    pk = _clean_pk(ct, object_id)
    model = ct.model_class()
    assert model is not None  # parse_content_type checked it is a tracked model
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        raise NotFound(message=f"no {ct.app_label}.{ct.model} with id {pk!r}")
    return SafeJsonResponse(
        {
            "content_type": f"{ct.app_label}.{ct.model}",
            "object_id": str(obj.pk),
            "name": labels.display_name(obj),
            "url": labels.public_url(obj),
            **get_object_stats(obj).as_dict(),
        }
    )


@api_view
def top_content(request):
    """Most viewed objects in a range, paginated."""
    params = request.GET
    rng = DateRange.from_params(params, default_days=7)
    content_type = parse_content_type(params.get("content_type"))
    limit = parse_int(params, "limit", 10, 1, MAX_LIMIT)
    page = parse_int(params, "page", 1, 1, MAX_PAGE)
    total = queries.count_content(rng, content_type)
    rows = queries.top_content(rng, content_type, limit=limit, offset=(page - 1) * limit)
    labels.resolve(rows)
    pages = max(1, -(-total // limit))
    return SafeJsonResponse(
        {
            "range": _range_dict(rng),
            "count": total,
            "page": page,
            "pages": pages,
            "next": _page_url(request, page + 1) if page < pages else None,
            "previous": _page_url(request, page - 1) if 1 < page <= pages else None,
            "results": [r.as_dict() for r in rows],
        }
    )


def _page_url(request, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(request.path + "?" + urlencode(sorted(query.items())))


@api_view
def timeseries(request):
    """Views per day/week/month for one object, one content type or everything."""
    params = request.GET
    rng = DateRange.from_params(params, default_days=30)
    granularity = parse_choice(params, "granularity", queries.GRANULARITIES, "day")
    content_type, object_id = _object_filter(params)
    points = queries.series(rng, granularity, content_type, object_id)
    return SafeJsonResponse(
        {
            "range": _range_dict(rng),
            "granularity": granularity,
            "content_type": params.get("content_type") or None,
            "object_id": object_id,
            "results": [p.as_dict() for p in points],
        }
    )


@api_view
def audience(request):
    """Human views and bot views by kind, for everything, one content type or one object."""
    params = request.GET
    rng = DateRange.from_params(params, default_days=30)
    content_type, object_id = _object_filter(params)
    return SafeJsonResponse(
        {
            "range": _range_dict(rng),
            "content_type": params.get("content_type") or None,
            "object_id": object_id,
            **audience_report.audience(rng, content_type, object_id).as_dict(),
        }
    )


@api_view
def site_summary(request):
    """Totals against the previous period, and the content-type comparison."""
    rng = DateRange.from_params(request.GET, default_days=30)
    types = queries.content_types(rng)
    labels.resolve(types)
    return SafeJsonResponse(
        {
            "range": _range_dict(rng),
            "previous_range": _range_dict(rng.previous()),
            **queries.totals(rng).as_dict(),
            "content_types": [t.as_dict() for t in types],
        }
    )


@api_view
def export_data(request):
    """CSV or NDJSON of summaries or raw logs, streamed."""
    params = request.GET
    rng = DateRange.from_params(params, default_days=30)
    fmt = parse_choice(params, "format", export.FORMATS, "ndjson")
    kind = parse_choice(params, "kind", export.KINDS, "summaries")
    return export.streaming_response(fmt, kind, rng)


@answers_errors
def schema(request):
    """The OpenAPI 3 description of this API (public: it holds no data)."""
    if request.method not in ("GET", "HEAD"):
        raise _method_not_allowed(request)
    base = request.path.rsplit("schema/", 1)[0]
    return SafeJsonResponse(openapi_schema(base), json_dumps_params={"indent": 2})


def not_found(request, rest: str = ""):
    return error_response(NotFound(message="no such API endpoint; see the schema at api/schema/"))
