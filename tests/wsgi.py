"""The WSGI entry point gunicorn serves in tests: ``?fast`` beacons go through the fast
path (``BeaconMiddleware``), all other requests straight to Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django_application = get_wsgi_application()

from djinsight.tracking.fastpath import BeaconMiddleware  # noqa: E402  (needs Django set up)

fast_application = BeaconMiddleware(django_application)


def application(environ, start_response):
    if environ.get("QUERY_STRING") == "fast":
        return fast_application(environ, start_response)
    return django_application(environ, start_response)
