"""Answer the beacon before Django's middleware and URL resolving.

Opt in from your project's ``wsgi.py``::

    from django.core.wsgi import get_wsgi_application
    from djinsight.fastpath import BeaconMiddleware

    application = BeaconMiddleware(get_wsgi_application())

``POST`` to the beacon path (``reverse("djinsight:record")``, wherever you
mounted ``djinsight.urls``) is validated and recorded by the very functions the
Django view uses (``beacon.record``), so answers are the same: 204, or the same
JSON 4xx/503 errors. Every other request, and ``OPTIONS`` on the beacon path
(CORS preflights), goes to Django untouched. What the fast path skips is your
middleware: the beacon needs none of it (no session, no CSRF, no user), and the
Host header is still checked against ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import cast
from urllib.parse import unquote_to_bytes

from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIRequest, get_str_from_wsgi
from django.core.signals import setting_changed
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.urls import NoReverseMatch, get_script_prefix, reverse

from djinsight.exceptions import BadRequest, HttpError
from djinsight.http import CONTENT_TYPE, error_body
from djinsight.rules import whole_number
from djinsight.tracking import beacon

logger = logging.getLogger("djinsight")
security_logger = logging.getLogger("django.security.DisallowedHost")

NO_CONTENT = "204 No Content"
UNRESOLVED = object()
HOST_SETTINGS = {"ALLOWED_HOSTS", "DEBUG", "USE_X_FORWARDED_HOST"}


class WSGIBeacon:
    """The parts of a WSGI request that ``beacon.record`` reads, read the way Django reads them."""

    __slots__ = ("META", "_cookies", "_body")

    def __init__(self, environ: dict) -> None:
        self.META = environ
        self._cookies: dict[str, str] | None = None
        self._body: bytes | None = None

    @property
    def COOKIES(self) -> dict[str, str]:  # noqa: N802 - Django's name
        if self._cookies is None:
            self._cookies = parse_cookie(get_str_from_wsgi(self.META, "HTTP_COOKIE", ""))
        return self._cookies

    @property
    def body(self) -> bytes:
        # http.read_body checks CONTENT_LENGTH before it reads the body, and that
        # the body is not shorter; an OSError here (a read timeout) is its 400.
        if self._body is None:
            self._body = read_exactly(
                self.META["wsgi.input"], whole_number(self.META.get("CONTENT_LENGTH") or "0") or 0
            )
        return self._body


def read_exactly(stream, length: int) -> bytes:
    """``length`` bytes of ``stream``, or fewer if it ends first (a WSGI read may
    return less than asked; an empty read is the end)."""
    chunks, missing = [], length
    while missing > 0:
        chunk = stream.read(missing)
        if not chunk:
            break
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


@functools.lru_cache(maxsize=256)
def _host_allowed(host: str) -> bool:
    allowed = django_settings.ALLOWED_HOSTS
    if django_settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain and validate_host(domain, allowed))


def host_allowed(environ: dict) -> bool:
    """Django's own ALLOWED_HOSTS check (``request.get_host()``), cached per Host header."""
    if django_settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    elif "HTTP_HOST" in environ:
        host = environ["HTTP_HOST"]
    else:  # no Host header (HTTP/1.0): let Django build it from SERVER_NAME and the port
        host = WSGIRequest(environ)._get_raw_host()  # type: ignore[attr-defined]  # not in the stubs
    if _host_allowed(host):
        return True
    security_logger.error("Invalid HTTP_HOST header: %r. djinsight's fast path refused it.", host)
    return False


def _forget_hosts(*, setting: str, **kwargs) -> None:
    if setting in HOST_SETTINGS:
        _host_allowed.cache_clear()


setting_changed.connect(_forget_hosts)


def beacon_path() -> str | None:
    """PATH_INFO of the beacon (without SCRIPT_NAME), or None if djinsight.urls is not mounted."""
    try:
        url = reverse("djinsight:record")
    except NoReverseMatch:
        return None
    prefix = get_script_prefix()
    if url.startswith(prefix):
        url = url[len(prefix) - 1 :]
    # reverse() percent-encodes; WSGI servers put the raw bytes, as latin-1, in PATH_INFO.
    return unquote_to_bytes(url).decode("latin-1")


def _error(start_response: Callable, exc: HttpError) -> list[bytes]:
    """The answer ``error_response(exc)`` gives in Django, as raw WSGI."""
    body = error_body(exc)
    headers = [
        ("Content-Type", CONTENT_TYPE),
        ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),  # as Django's SecurityMiddleware adds by default
        *exc.headers.items(),
    ]
    start_response(f"{exc.status} {HTTPStatus(exc.status).phrase}", headers)
    return [body]


def answer(environ: dict, start_response: Callable) -> list[bytes]:
    """Answer one request to the beacon path as ``beacon.RecordView`` would."""
    try:
        if environ.get("REQUEST_METHOD") != "POST":
            raise beacon.method_not_allowed()
        if not host_allowed(environ):
            raise BadRequest("disallowed_host", "the Host header is not in ALLOWED_HOSTS")
        beacon.record(WSGIBeacon(environ))
    except HttpError as exc:
        return _error(start_response, exc)
    start_response(NO_CONTENT, [])
    return []


class BeaconMiddleware:
    """WSGI middleware: the beacon is answered here, everything else goes to ``application``."""

    def __init__(self, application: Callable, path: str | None = None) -> None:
        self.application = application
        # None (djinsight.urls not mounted) matches no PATH_INFO: everything goes to Django.
        self._path: str | None | object = UNRESOLVED if path is None else path

    @property
    def path(self) -> str | None:
        """The beacon's PATH_INFO, resolved from the URLconf at the first request."""
        if self._path is UNRESOLVED:
            self._path = beacon_path()
            if self._path is None:
                logger.warning(
                    "djinsight: BeaconMiddleware found no URL named 'djinsight:record'; "
                    "include('djinsight.urls') in your URLconf. Passing every request to Django."
                )
        return cast("str | None", self._path)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") == "OPTIONS":
            return self.application(environ, start_response)
        return answer(environ, start_response)
