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

A body shorter than its ``Content-Length`` is refused (400 ``incomplete_body``),
never recorded. How long a worker waits for the missing bytes is the WSGI
server's read timeout; under gunicorn, which has none of its own, each read of
the body waits at most ``BODY_TIMEOUT`` (see docs/security.md).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse

from djinsight.exceptions import BadRequest, HttpError
from djinsight.rules import whole_number

CONTENT_TYPE = "application/json"
# Seconds one read of a request body may wait for bytes, where djinsight can set it
# (gunicorn's socket): a beacon's few hundred bytes travel with its headers.
BODY_TIMEOUT = 2.0


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

    BadRequest if it is over ``limit`` bytes, shorter than declared, or not JSON.
    """
    body = read_body(request, limit)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting too
        raise BadRequest("invalid_json", "request body must be a JSON object") from None


def too_large() -> BadRequest:
    return BadRequest("body_too_large", "request body is too large", status=413)


def incomplete() -> BadRequest:
    return BadRequest("incomplete_body", "request body is shorter than its Content-Length")


def read_body(request: Any, limit: int) -> bytes:
    """The whole body of ``request``: 413 ``body_too_large`` over ``limit`` bytes
    (declared or sent), 400 ``incomplete_body`` if it ends before its Content-Length."""
    # The declared length is checked before the body is read, so a huge body is never read.
    declared = whole_number(request.META.get("CONTENT_LENGTH") or "0")
    if declared is None or declared > limit:
        raise too_large()
    try:
        with bounded_reads(request.META, declared):
            body = request.body
    except OSError:  # the server's read timed out or the client went away
        raise incomplete() from None
    if len(body) > limit:
        raise too_large()
    if len(body) < declared:
        raise incomplete()
    return body


@contextlib.contextmanager
def bounded_reads(meta: Mapping[str, Any], length: int) -> Iterator[None]:
    """Each read of a body of ``length`` bytes waits at most BODY_TIMEOUT, where the
    WSGI server lets djinsight say so (gunicorn's ``gunicorn.socket``); then restored."""
    sock = meta.get("gunicorn.socket") if length else None
    try:
        prior = sock.gettimeout() if sock is not None else None
    except (AttributeError, OSError):
        sock = None
    if sock is None or (prior is not None and prior <= BODY_TIMEOUT):
        yield
        return
    sock.settimeout(BODY_TIMEOUT)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(prior)
