"""One error family: every djinsight error is a DjinsightError and the builtin that fits."""

import pytest
from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404
from django.test import RequestFactory

from djinsight import exceptions as e

# class, what it also is, default status, default code (None: not answered over HTTP)
FAMILY = [
    (e.ConfigurationError, ImproperlyConfigured, None, None),
    (e.ImproperlyInstalled, ImportError, None, None),
    (e.BadReference, ValueError, None, None),
    (e.ObjectDeleted, LookupError, None, None),
    (e.UnknownModels, LookupError, None, None),
    (e.Conflict, RuntimeError, None, None),
    (e.BadRequest, ValueError, 400, "bad_request"),
    (e.BadParameter, ValueError, 400, "bad_request"),
    (e.MethodNotAllowed, e.HttpError, 405, "method_not_allowed"),
    (e.Gone, e.HttpError, 410, "gone"),
    (e.Unavailable, e.HttpError, 503, "unavailable"),
    (e.NotAuthenticated, PermissionDenied, 401, "not_authenticated"),
    (e.Forbidden, PermissionDenied, 403, "permission_denied"),
    (e.NotFound, Http404, 404, "not_found"),
]


@pytest.mark.parametrize(
    ("cls", "builtin", "status", "code"), FAMILY, ids=[row[0].__name__ for row in FAMILY]
)
def test_each_error_is_a_djinsight_error_and_the_builtin_that_fits(cls, builtin, status, code):
    assert issubclass(cls, e.DjinsightError)
    assert issubclass(cls, builtin)
    if status is None:
        assert not issubclass(cls, e.HttpError)
        return
    assert issubclass(cls, e.HttpError)
    assert (cls.status, cls.code) == (status, code)


def test_http_errors_carry_status_code_and_message():
    error = e.BadRequest("body_too_large", "request body is too large", status=413)
    assert (error.status, error.code, error.message) == (
        413,
        "body_too_large",
        "request body is too large",
    )
    assert str(error) == "request body is too large"
    assert e.BadRequest.status == 400  # the class default is untouched

    assert e.NotFound(message="gone").code == "not_found"
    assert e.NotAuthenticated("invalid_token", "bad").code == "invalid_token"
    assert e.NotAuthenticated("invalid_token", "bad").status == 401


def test_bad_input_is_also_djangos_bad_request_and_the_api_errors_are_access_errors():
    assert issubclass(e.BadParameter, e.BadRequest)
    assert issubclass(e.BadRequest, DjangoBadRequest)
    for cls in (e.NotAuthenticated, e.Forbidden, e.NotFound):
        assert issubclass(cls, e.ApiError)
    # Unavailable is not an OSError: code that catches Redis's OSErrors must not swallow it
    assert not issubclass(e.Unavailable, OSError)


def test_headers_travel_with_the_error():
    assert e.MethodNotAllowed("use POST", allow="POST").headers == {"Allow": "POST"}
    assert e.MethodNotAllowed("use GET").headers == {}
    assert e.NotAuthenticated("not_authenticated", "log in").headers == {
        "WWW-Authenticate": 'Bearer realm="djinsight"'
    }
    assert e.Forbidden(message="no").headers == {}
    assert e.BadRequest("invalid_json", "no").headers == {}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (e.BadRequest("invalid_json", "x"), 400),
        (e.BadParameter("invalid_limit", "x"), 400),
        (e.Forbidden(message="x"), 403),
        (e.NotAuthenticated(message="x"), 403),  # Django knows no 401: still refused
        (e.NotFound(message="x"), 404),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_django_answers_an_escaped_error_with_a_4xx_not_a_500(error, status):
    response = response_for_exception(RequestFactory().get("/"), error)
    assert response.status_code == status


def test_old_import_paths_name_the_same_classes():
    from djinsight.api.views import ApiError
    from djinsight.pipeline.flush import Conflict, UnknownModels
    from djinsight.reports.params import BadParameter
    from djinsight.tracking.beacon import BadRequest

    assert (ApiError, Conflict, UnknownModels, BadParameter, BadRequest) == (
        e.ApiError,
        e.Conflict,
        e.UnknownModels,
        e.BadParameter,
        e.BadRequest,
    )


def test_unknown_models_names_the_labels_and_the_way_out():
    error = e.UnknownModels({"shop.b", "blog.a"})
    assert error.labels == ["blog.a", "shop.b"]
    assert "blog.a, shop.b" in str(error) and "--discard-unknown" in str(error)


def test_unknown_models_survives_pickling_with_its_labels():
    import pickle

    error = e.UnknownModels({"shop.product", "blog.article"})
    copy = pickle.loads(pickle.dumps(error))
    assert copy.labels == ["blog.article", "shop.product"]
    assert str(copy) == str(error)
