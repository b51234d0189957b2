"""djinsight's errors: one family under ``DjinsightError``.

Each error also inherits the builtin or Django exception that fits, so that
code which knows nothing of djinsight handles it well (``except ValueError``;
Django answers an escaped ``PermissionDenied`` with 403, ``Http404`` with 404,
its ``BadRequest`` with 400)::

    DjinsightError
    ├── ConfigurationError (ImproperlyConfigured)  a DJINSIGHT_* setting or Redis is misconfigured
    ├── ImproperlyInstalled (ImportError)          an optional extra is missing
    ├── BadReference (ValueError)                  a forged, malformed or untracked reference
    ├── ObjectDeleted (LookupError)                a view of an object that was deleted
    ├── ViewCapped                                 a view past an inflation budget: not counted
    ├── UnknownModels (LookupError)                flush: views of models this process lacks
    ├── Conflict (RuntimeError)                    flush: another flusher moved the watermark
    └── HttpError                                  answered as JSON: status, code, message
        ├── BadRequest (ValueError, BadRequest)    400 (413): the beacon, the live endpoint
        │   └── BadParameter                       400: a query parameter (reports, API)
        ├── CrossSite (PermissionDenied)           403: a beacon sent from another site
        ├── MethodNotAllowed                       405, with ``Allow``
        ├── Gone                                   410: the beacon, for a deleted object
        ├── Unavailable                            503: the analytics store is down
        └── ApiError                               the REST API's access errors
            ├── NotAuthenticated (PermissionDenied)  401, with ``WWW-Authenticate``
            ├── Forbidden (PermissionDenied)         403
            └── NotFound (Http404)                   404

Every endpoint turns an ``HttpError`` into the same JSON body with
``djinsight.http.error_body`` / ``error_response``.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404


class DjinsightError(Exception):
    """Base class for djinsight's own errors."""


class ConfigurationError(DjinsightError, ImproperlyConfigured):
    """A DJINSIGHT_* setting or the Redis configuration is wrong."""


class ImproperlyInstalled(DjinsightError, ImportError):
    """An optional dependency is missing; the message names the pip command."""


class BadReference(DjinsightError, ValueError):
    """An object reference is malformed, forged or names no tracked model."""


class ObjectDeleted(DjinsightError, LookupError):
    """A view names an object that was deleted (its tombstone is in Redis): not recorded."""


class ViewCapped(DjinsightError):
    """The view went past an inflation budget (DJINSIGHT_RATE_LIMIT): record.lua counted
    it in the ``capped`` figure only. The beacon still answers 204."""


class UnknownModels(DjinsightError, LookupError):
    """A flush batch holds views of models this process doesn't know (yet).

    Typically a rolling deploy: web servers run new code before the workers.
    The views stay in the buffer until a process that knows the model flushes
    them, or until ``process_pageviews --discard-unknown`` drops them.
    """

    def __init__(self, labels) -> None:
        self.labels = sorted(labels)
        super().__init__(
            f"views of unknown or untracked models {', '.join(self.labels)} are held in the "
            "buffer; restart workers with the current code, or run "
            "`manage.py process_pageviews --discard-unknown` if those models were removed"
        )

    def __reduce__(self):  # pickled (Celery, multiprocessing) with its labels, not its message
        return type(self), (self.labels,)


class Conflict(DjinsightError, RuntimeError):
    """Another flusher advanced the shard's watermark first; this flush backs off."""


# -- answered over HTTP ----------------------------------------------------------------


class HttpError(DjinsightError):
    """An error an endpoint answers with JSON: an HTTP ``status``, a stable ``code``
    (listed in docs/analytics.md) and a human ``message``."""

    status = 400
    code = "bad_request"

    def __init__(self, code: str | None = None, message: str = "", *, status: int | None = None):
        super().__init__(message)
        self.code = code or type(self).code
        self.message = message
        if status is not None:
            self.status = status

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides its Content-Type."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, status={self.status})"


class BadRequest(HttpError, ValueError, DjangoBadRequest):
    """The client sent something wrong: a body, a field, a reference (400, or 413)."""


class BadParameter(BadRequest):
    """A query parameter the caller got wrong (dashboard, API, exports)."""


class CrossSite(HttpError, PermissionDenied):
    """A beacon whose ``Origin`` or ``Sec-Fetch-Site`` says another site sent it (403),
    nothing recorded; DJINSIGHT_ALLOWED_ORIGINS lists the sites that may."""

    status = 403
    code = "cross_site"


class MethodNotAllowed(HttpError):
    """The endpoint does not answer this HTTP method; ``allow`` lists the ones it does."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, message: str, allow: str | None = None) -> None:
        super().__init__(message=message)
        self.allow = allow

    @property
    def headers(self) -> dict[str, str]:
        return {"Allow": self.allow} if self.allow else {}


class Gone(HttpError):
    """What the client names existed once and was deleted: 410, nothing recorded.

    No builtin fits: ``Http404`` would make Django answer a 404 of its own.
    """

    status = 410
    code = "gone"


class Unavailable(HttpError):
    """The analytics store (Redis) is down, so the view was not recorded.

    No builtin fits: ``ConnectionError`` is an ``OSError``, which the code
    around Redis calls catches and would swallow.
    """

    status = 503
    code = "unavailable"


class ApiError(HttpError):
    """Why the REST API refused a request."""


class NotAuthenticated(ApiError, PermissionDenied):
    """No credentials, or a bad token: 401 with a ``WWW-Authenticate`` challenge."""

    status = 401
    code = "not_authenticated"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="djinsight"'}


class Forbidden(ApiError, PermissionDenied):
    """Authenticated, but without the analytics permission."""

    status = 403
    code = "permission_denied"


class NotFound(ApiError, Http404):
    """No such object or endpoint."""

    status = 404
    code = "not_found"
