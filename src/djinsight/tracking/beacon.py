"""The beacon endpoint.

The work is done by plain functions on anything with ``META``, ``COOKIES`` and
``body`` (a Django request, or the WSGI fast path's request in fastpath.py), so
the Django view and the fast path validate and record exactly alike.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

import redis
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from djinsight.conf import settings
from djinsight.exceptions import (
    BadReference,
    BadRequest,
    ConfigurationError,
    Gone,
    MethodNotAllowed,
    ObjectDeleted,
    Unavailable,
)
from djinsight.http import answers_errors, read_json
from djinsight.signals import view_recorded
from djinsight.store import buffer
from djinsight.store.client import full, out_of_memory, outage
from djinsight.tracking import identity
from djinsight.tracking.references import unsign

MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
MAX_BACKDATE_MS = 24 * 60 * 60 * 1000


class BeaconRequest(Protocol):
    """What recording a beacon reads from a request."""

    @property
    def META(self) -> Mapping[str, Any]: ...

    @property
    def COOKIES(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> bytes: ...


def method_not_allowed() -> MethodNotAllowed:
    return MethodNotAllowed("use POST", allow="POST")


def unavailable() -> Unavailable:
    return Unavailable(message="view not recorded: analytics store unavailable")


def store_full() -> Unavailable:
    return Unavailable(
        "store_full", "view not recorded: analytics store full until the next flush frees memory"
    )


def _text(payload: dict, key: str, limit: int) -> str:
    value = payload.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest("invalid_field", f"{key!r} must be a string")
    value = value[:limit]
    # The database could never store these: one such view would block its shard's flush.
    if "\x00" in value or not _encodable(value):
        raise BadRequest("invalid_field", f"{key!r} must be text without NUL or lone surrogates")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _timestamp_ms(payload: dict) -> int:
    now = int(time.time() * 1000)
    value = payload.get("ts")
    if value is None:
        return now
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("invalid_timestamp", "'ts' must be milliseconds since the epoch")
    if not now - MAX_BACKDATE_MS <= value <= now + MAX_CLOCK_SKEW_MS:
        raise BadRequest("invalid_timestamp", "'ts' is more than a day old or in the future")
    return value


def parse_payload(request: BeaconRequest) -> dict:
    payload = read_json(request, settings.MAX_BODY_BYTES)
    if not isinstance(payload, dict):
        raise BadRequest("invalid_json", "request body must be a JSON object")
    return payload


def _do_not_track(request: BeaconRequest) -> bool:
    return settings.RESPECT_DNT and (
        request.META.get("HTTP_DNT") == "1" or request.META.get("HTTP_SEC_GPC") == "1"
    )


def build_view(request: BeaconRequest, payload: dict) -> buffer.View:
    try:
        name = unsign(payload.get("ref"))
    except BadReference as exc:
        raise BadRequest("invalid_reference", str(exc)) from None
    ts = _timestamp_ms(payload)
    day = timezone.localdate(buffer.ms_to_datetime(ts))
    ip = identity.client_ip(request)
    return buffer.View(
        name=name,
        visitor=identity.visitor_hash(request, day),
        timestamp_ms=ts,
        day=day,
        path=_text(payload, "url", 2000) or "",
        referrer=_text(payload, "referrer", 2000),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500].replace("\x00", ""),
        ip=identity.anonymise_ip(ip) or "",
    )


def record(request: BeaconRequest) -> None:
    """Validate a POSTed beacon and record it; BadRequest (4xx), Gone (410, a deleted
    object) or Unavailable (503) if not."""
    view = build_view(request, parse_payload(request))
    if not settings.ENABLE_TRACKING or _do_not_track(request):
        return
    if outage.should_skip():
        raise unavailable()
    try:
        unique = buffer.record_view(view)
    except ObjectDeleted as exc:
        outage.succeeded()
        raise Gone("object_deleted", str(exc)) from None
    except (redis.RedisError, OSError, ConfigurationError) as exc:
        raise _not_recorded(exc) from None
    outage.succeeded()
    full.recorded()
    view_recorded.send(sender=None, name=view.name, unique=unique, request=request)


def _not_recorded(exc: Exception) -> Unavailable:
    """The 503 for a view Redis did not record; a full Redis refused it before any write."""
    if out_of_memory(exc):
        full.refused(exc)
        return store_full()
    outage.failed(exc)
    return unavailable()


@method_decorator([csrf_exempt, answers_errors], name="dispatch")
class RecordView(View):
    """POST a signed object reference; 204 when recorded, JSON 4xx (410 for a deleted
    object, or 503) when not."""

    http_method_names = ["post"]  # same-origin beacons never need a preflight

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise method_not_allowed()

    def post(self, request: HttpRequest) -> HttpResponse:
        record(request)
        return HttpResponse(status=204)


record_view = RecordView.as_view()
