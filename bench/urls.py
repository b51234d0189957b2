"""URLs of the benchmark project: the floor and djinsight."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def floor(request):
    """The baseline: a bare Django view that answers 204 and touches nothing."""
    return HttpResponse(status=204)


urlpatterns = [
    path("floor/", floor),
    path("djinsight/", include("djinsight.urls")),
]
