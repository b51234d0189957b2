"""JSON on the wire: request bodies read with a size limit, the one error body every
endpoint sends, and escaped JSON.

Every endpoint (the beacon view, the WSGI fast path, the live endpoint, the
REST API) answers an ``HttpError`` with ``{"error": {"code": ..., "message":
...}}`` built by ``error_body``: the Django views through ``error_response``
(``answers_errors`` catches what they raise), the fast path by writing the
same bytes itself.

``<``, ``>`` and ``&`` are written as ``\\u`` escapes in all of it, so no
browser can take user-supplied text (titles, referrers, a bad parameter echoed
in a message) for markup; the JSON means the same.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse

from djinsight.exceptions import BadRequest, HttpError

CONTENT_TYPE = "application/json"


def escape(content: bytes) -> bytes:
    """JSON text with ``<``, ``>`` and ``&`` as ``\\u`` escapes."""
    return content.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")


def error_body(error: HttpError) -> bytes:
    """The JSON body that answers ``error``, byte for byte the same on every endpoint."""
    data = {"error": {"code": error.code, "message": error.message}}
    return escape(json.dumps(data, cls=DjangoJSONEncoder).encode())


def error_response(error: HttpError) -> HttpResponse:
    """A Django response for ``error``: its status, headers and ``error_body``."""
    response = HttpResponse(error_body(error), status=error.status, content_type=CONTENT_TYPE)
    for name, value in error.headers.items():
        response[name] = value
    return response


def answers_errors(view):
    """Decorate a view (function, or a class-based view's ``dispatch``) so that an
    ``HttpError`` it raises is answered with ``error_response``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except HttpError as exc:
            return error_response(exc)

    return wrapper


class SafeJsonResponse(JsonResponse):
    """A JsonResponse whose content is ``escape``d (see the module docstring)."""

    def __init__(self, data, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.content = escape(self.content)


def read_json(request: Any, limit: int) -> Any:
    """The body of ``request`` (anything with ``META`` and ``body``) decoded as JSON.

    BadRequest if it is over ``limit`` bytes or not JSON.
    """
    # The declared length is checked before the body is read, so a huge body is never read.
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > limit:
        raise BadRequest("body_too_large", "request body is too large", status=413)
    body = request.body
    if len(body) > limit:
        raise BadRequest("body_too_large", "request body is too large", status=413)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting too
        raise BadRequest("invalid_json", "request body must be a JSON object") from None
